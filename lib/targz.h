/* targz.h - a small streaming reader for gzip-compressed tar archives */
#ifndef CAE_TARGZ_H
#define CAE_TARGZ_H

#include <stddef.h>
#include <stdint.h>

struct gzFile_s;

#define TGZ_NAME_MAX 1024
/* Largest member size accepted from a header: larger values are treated
 * as a corrupt header rather than trusted. */
#define TGZ_SIZE_MAX (UINT64_C(1) << 40)

/* A tar archive read front to back through zlib's gz layer; nothing is
 * unpacked to disk. Only regular files are reported as members: directories,
 * links, devices, pax headers and unknown types are skipped (GNU long names
 * are applied to the member they precede). */
struct targz {
	struct gzFile_s *gz;    /* zlib's gzFile */
	const char *path;       /* for messages */
	char name[TGZ_NAME_MAX];/* current member's full name ("" if too long) */
	uint64_t size;          /* current member's data size */
	uint64_t left;          /* data bytes of the current member not yet read */
	uint64_t pad;           /* zero bytes after the data up to a 512-byte block */
	long ordinal;           /* 0-based index of the current member, -1 before the first */
	uint64_t off;           /* offset in the uncompressed archive */
	int end;                /* end of archive seen */
	char err[TGZ_NAME_MAX + 256];  /* set when a call returns -1 */
};

/* Opens the gzip file PATH (which must stay valid while T is open).
 * Returns 0, or -1 with t->err set (T then needs no tgz_close). */
int tgz_open(struct targz *t, const char *path);

/* Skips what is left of the current member and advances to the next
 * regular file. Returns 1 (t->name, t->size set), 0 at the end of the
 * archive (two zero blocks or the end of the data), -1 on error. */
int tgz_next(struct targz *t);

/* Reads up to N bytes of the current member's data. Returns the number
 * read (> 0), 0 when the member's data is exhausted, -1 on error (a
 * member cut short is an error, never a short success). */
long tgz_read(struct targz *t, void *buf, size_t n);

/* Reads the rest of the compressed data so that zlib verifies the gzip
 * trailers (CRC and length). Returns 0 or -1. */
int tgz_drain(struct targz *t);

/* Goes back to the start of the archive. Returns 0 or -1. */
int tgz_rewind(struct targz *t);

/* Closes the archive. */
void tgz_close(struct targz *t);

/* Parses a tar numeric field of LEN bytes: octal digits (leading spaces,
 * ending at NUL or space) or base-256 when the top bit of the first byte
 * is set. Returns 0 with *out set, or -1 if malformed, negative or above
 * TGZ_SIZE_MAX. */
int tgz_number(const unsigned char *field, size_t len, uint64_t *out);

#endif
