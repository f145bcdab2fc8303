/* cifar.h - reading CIFAR-10 and CIFAR-100 binary batches */
#ifndef CAE_CIFAR_H
#define CAE_CIFAR_H

#include <stdint.h>
#include <stdio.h>

#include "targz.h"

#define CIFAR_SIDE 32
#define CIFAR_PIXELS (3 * CIFAR_SIDE * CIFAR_SIDE)  /* R plane, G plane, B plane */
#define CIFAR10_RECORD (1 + CIFAR_PIXELS)          /* label, pixels */
#define CIFAR100_RECORD (2 + CIFAR_PIXELS)         /* coarse label, fine label, pixels */
#define CIFAR_BLOCK 1000                           /* records per read */
#define CIFAR_MAX_PARTS 5
#define CIFAR_UNKNOWN UINT64_MAX

enum { CIFAR_AUTO = 0, CIFAR_10 = 10, CIFAR_100 = 100 };
enum { CIFAR_TRAIN, CIFAR_TEST };
/* Which label: CIFAR-10's single label counts as the fine one. */
enum { CIFAR_FINE, CIFAR_COARSE };
/* What an input turned out to be. */
enum { CIFAR_SRC_FILE, CIFAR_SRC_STREAM, CIFAR_SRC_DIR, CIFAR_SRC_TGZ };

/* One batch file of an input, read in turn. */
struct cifar_part {
	char *name;        /* for messages: a path, or "archive: member" */
	char *path;        /* file to open; NULL for stdin or an archive member */
	long member;       /* ordinal of the archive member (CIFAR_SRC_TGZ) */
	uint64_t size;     /* bytes, CIFAR_UNKNOWN for a stream */
};

/* An opened input: a batch file, a stream, a directory of batches or a
 * cifar-*-binary.tar.gz, reduced to the list of batches of one split. */
struct cifar {
	char *path;        /* the input as named (a directory may descend into
	                      its cifar-10-batches-bin or cifar-100-binary) */
	int src;           /* CIFAR_SRC_* */
	int kind;          /* CIFAR_10 or CIFAR_100 */
	int nparts;
	struct cifar_part part[CIFAR_MAX_PARTS];
	uint64_t records;  /* total, or CIFAR_UNKNOWN when a part is a stream */
	int nnames[2];     /* classes per label: [CIFAR_FINE], [CIFAR_COARSE] (0 for CIFAR-10) */
	const char *names[2][100];
	char *nametext[2]; /* loaded label-name files; NULL for the built-in lists */

	/* reading state */
	int cur;           /* part being read */
	int opened;        /* part cur is open */
	FILE *f;
	int tz_open;
	struct targz tz;
	uint64_t rec;      /* records read from the current part */
	uint64_t bytes;    /* bytes read from the current part */
	unsigned char *buf;/* CIFAR_BLOCK raw records */
	char err[TGZ_NAME_MAX + 512];
};

/* Opens PATH ("-" is standard input, read as a raw batch) and works out
 * what it is: a directory or .tar.gz yields the batches of SPLIT
 * (CIFAR_TRAIN or CIFAR_TEST), a file is one batch. KIND is CIFAR_AUTO
 * (detect from names or, for an oddly named file, its size; a stream
 * defaults to CIFAR-10) or forces CIFAR_10/CIFAR_100. File sizes, archive
 * integrity and the presence of every batch are checked here, before any
 * record is read. Class names come from batches.meta.txt or
 * fine/coarse_label_names.txt beside the data or in the archive, else the
 * built-in lists. Returns 0, or -1 with c->err set (call cifar_close
 * either way). */
int cifar_open(struct cifar *c, const char *path, int kind, int split);

/* Reads up to MAX (at most CIFAR_BLOCK) records of the current batch:
 * pixels into PIX (CIFAR_PIXELS bytes each, verbatim), labels into FINE
 * and COARSE (either may be NULL; COARSE is -1 for CIFAR-10). Labels are
 * range-checked. Returns the number read (> 0), 0 at the end of the last
 * batch, -1 with c->err set. */
long cifar_read(struct cifar *c, unsigned char *pix, int32_t *fine, int32_t *coarse, long max);

/* Frees everything cifar_open and cifar_read allocated. */
void cifar_close(struct cifar *c);

/* Record size of a kind: 3073 or 3074. */
int cifar_record_size(int kind);
/* "CIFAR-10" or "CIFAR-100". */
const char *cifar_kind_name(int kind);

/* Finds a class of label WHICH by number or name (case-insensitive).
 * Returns its number, or -1 if there is no such class. */
int cifar_class_find(const struct cifar *c, int which, const char *s);

/* Built-in class names: CIFAR-10 (WHICH ignored) or CIFAR-100 fine or
 * coarse. Returns the count and sets *names. */
int cifar_builtin_names(int kind, int which, const char *const **names);

#endif
