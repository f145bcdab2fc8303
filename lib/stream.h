/* stream.h - the tensor stream format, see cae-stream(5) */
#ifndef CAE_STREAM_H
#define CAE_STREAM_H

#include <stdint.h>
#include <stdio.h>

#define TS_HEADER_LEN 64
#define TS_VERSION 1
enum { TS_U8 = 1, TS_F32 = 2 };
#define TS_FLAG_LABELS 0x01u

/* Documented limits (cae-stream(5)): anything larger is rejected. */
#define TS_MAX_C 4096u
#define TS_MAX_HW 65536u               /* H and W each */
#define TS_MAX_SAMPLES (1u << 28)      /* C*H*W per record: 1 GiB of f32 */

extern const unsigned char ts_magic[8];

/* Shape and type of the records of one segment. */
struct ts_shape {
	int dtype;      /* TS_U8 or TS_F32 */
	int labels;     /* 1 if each record begins with an int32 label */
	uint32_t c, h, w;
};

/* Samples per record (C*H*W), bytes of samples, bytes per whole record. */
static inline uint64_t ts_samples(const struct ts_shape *s) { return (uint64_t)s->c * s->h * s->w; }
static inline uint64_t ts_data_bytes(const struct ts_shape *s)
{ return ts_samples(s) * (s->dtype == TS_F32 ? 4 : 1); }
static inline uint64_t ts_record_bytes(const struct ts_shape *s)
{ return ts_data_bytes(s) + (s->labels ? 4 : 0); }
int ts_shape_eq(const struct ts_shape *a, const struct ts_shape *b);
/* "u8 3x32x32 labelled" into buf. */
const char *ts_shape_str(const struct ts_shape *s, char *buf, size_t n);

/* Reader. Reads segment headers transparently; records come one at a time
 * or a batch at a time, always within one segment (a batch never spans a
 * segment boundary, so its shape is r->shape). */
struct ts_reader {
	FILE *f;
	const char *name;       /* for messages: file name or "<stdin>" */
	struct ts_shape shape;  /* shape of the current segment */
	struct ts_shape first;  /* shape of the first segment */
	int uniform;            /* reject a change of shape/dtype between segments */
	uint64_t seg;           /* current segment, 0-based */
	uint64_t left;          /* records left in the current segment */
	uint64_t rec;           /* records read so far (whole stream) */
	uint64_t off;           /* byte offset in the stream */
	int eof;                /* clean end reached */
	char err[256];          /* set when a call returns -1 */
};

/* Opens a stream on F and reads the first header (an empty input is an
 * error). NAME is used in messages. With uniform set, every later segment
 * must have the first segment's shape, dtype and flags.
 * Returns 0 or -1 with r->err set. */
int ts_open(struct ts_reader *r, FILE *f, const char *name, int uniform);

/* Makes sure a record is available, reading segment headers (and skipping
 * empty segments) as needed; r->shape is then the record's shape.
 * Returns 1 if a record follows, 0 at the clean end, -1 on error. */
int ts_more(struct ts_reader *r);

/* Reads up to MAX records of the current segment: labels (if the stream
 * has them and LABELS is not NULL; else skipped) and raw samples in the
 * stream's dtype into DATA (max * ts_data_bytes bytes). Returns the number
 * read (>= 1), 0 at the clean end, -1 on error. */
long ts_read(struct ts_reader *r, void *data, int32_t *labels, long max);

/* Like ts_read, but converts samples to float (u8 v -> v/255). */
long ts_read_f32(struct ts_reader *r, float *data, int32_t *labels, long max, void *scratch);

/* Writes a header for COUNT records of shape S. Returns 0 or -1 (errno). */
int ts_write_header(FILE *f, const struct ts_shape *s, uint64_t count);
/* Writes N records: labels (if s->labels; NULL means 0s) and samples
 * already in the stream's dtype. Returns 0 or -1. */
int ts_write(FILE *f, const struct ts_shape *s, const void *data, const int32_t *labels, long n);
/* Writes a whole segment of N float records in dtype s->dtype (u8 output
 * clamps to [0,1] and rounds). SCRATCH holds n*ts_data_bytes bytes when
 * s->dtype is TS_U8 (may be NULL for TS_F32). Returns 0 or -1. */
int ts_write_segment_f32(FILE *f, const struct ts_shape *s, const float *data,
                         const int32_t *labels, long n, void *scratch);

/* Float -> u8 with clamping to [0,1] and rounding to nearest. */
void ts_f32_to_u8(const float *in, unsigned char *out, uint64_t n);
void ts_u8_to_f32(const unsigned char *in, float *out, uint64_t n);

#endif
