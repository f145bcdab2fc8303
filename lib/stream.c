/* stream.c - reading and writing the tensor stream format, cae-stream(5) */
#include "stream.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

const unsigned char ts_magic[8] = { 0x89, 'T', 'N', 'S', '\r', '\n', 0x1a, '\n' };

int ts_shape_eq(const struct ts_shape *a, const struct ts_shape *b)
{
	return a->dtype == b->dtype && a->labels == b->labels &&
	       a->c == b->c && a->h == b->h && a->w == b->w;
}

const char *ts_shape_str(const struct ts_shape *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s %ux%ux%u%s", s->dtype == TS_F32 ? "f32" : "u8",
	         s->c, s->h, s->w, s->labels ? " labelled" : "");
	return buf;
}

static int fail(struct ts_reader *r, uint64_t off, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, sizeof(r->err), "%s: segment %llu, record %llu, byte %llu: %s",
	         r->name, (unsigned long long)r->seg + 1, (unsigned long long)r->rec,
	         (unsigned long long)off, msg);
	return -1;
}

/* Names a foreign format from its first bytes, or returns NULL. */
static const char *foreign(const unsigned char *b, long n)
{
	if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		return "a PNG image, not a tensor stream (convert it with img-read)";
	if (n >= 6 && !memcmp(b, "\x93NUMPY", 6))
		return "a NumPy .npy file, not a tensor stream (see cae-stream(5) for a converter)";
	if (n >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '7')
		return "a PNM/PAM image, not a tensor stream";
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "gzip data, not a tensor stream (a cifar-10-binary.tar.gz? use cifar-extract)";
	if (n >= 8 && !memcmp(b, "\x89" "CAEMOD", 7))
		return "a cae model file, not a tensor stream";
	if (n >= 1 && b[0] < 100 && memcmp(b, ts_magic, n < 8 ? (size_t)n : 8))
		return "not a tensor stream (a raw CIFAR batch? convert it with cifar-extract)";
	return NULL;
}

/* Bytes left in F from its current position if it is a regular file,
 * else -1 (a pipe or a terminal: its length is not known). */
static off_t input_left(FILE *f)
{
	struct stat st;
	off_t pos;
	int fd = fileno(f);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (pos = ftello(f)) < 0)
		return -1;
	return st.st_size > pos ? st.st_size - pos : 0;
}

/* Reads and checks one header at the current position. Returns 1 if a
 * header was read, 0 at a clean end of input, -1 on error. */
static int read_header(struct ts_reader *r)
{
	unsigned char h[TS_HEADER_LEN];
	uint64_t off = r->off, count, total;
	struct ts_shape s;
	long n;
	off_t k;
	int i;

	n = read_full(r->f, h, 8);
	if (n < 0)
		return fail(r, off, "read error: %s", strerror(errno));
	if (n == 0) {
		if (r->seg == 0 && r->off == 0)
			return fail(r, off, "empty input");
		return 0;
	}
	if (r->seg > 0 || r->off > 0)
		r->seg++; /* a later segment: messages name it */
	if (n < 8 || memcmp(h, ts_magic, 8)) {
		const char *what = foreign(h, n);
		if (n < 8 && !memcmp(h, ts_magic, n))
			return fail(r, off, "truncated header (%ld of %d bytes)", n, TS_HEADER_LEN);
		return fail(r, off, "bad magic: %s", what ? what : "not a tensor stream");
	}
	n = read_full(r->f, h + 8, TS_HEADER_LEN - 8);
	if (n < 0)
		return fail(r, off, "read error: %s", strerror(errno));
	if (n < TS_HEADER_LEN - 8)
		return fail(r, off, "truncated header (%ld of %d bytes)", n + 8, TS_HEADER_LEN);
	if (rd16(h + 8) != TS_VERSION)
		return fail(r, off + 8, "unknown version %u (this program reads version %d)",
		            rd16(h + 8), TS_VERSION);
	if (rd16(h + 10) < TS_HEADER_LEN)
		return fail(r, off + 10, "header length %u is less than %d", rd16(h + 10), TS_HEADER_LEN);
	if (rd16(h + 10) != TS_HEADER_LEN)
		return fail(r, off + 10, "header length %u not supported by version 1 (must be %d)",
		            rd16(h + 10), TS_HEADER_LEN);
	if (h[12] != TS_U8 && h[12] != TS_F32)
		return fail(r, off + 12, "unknown dtype %u (1 = u8, 2 = f32)", h[12]);
	if (h[13] & ~TS_FLAG_LABELS)
		return fail(r, off + 13, "unknown flag bits 0x%02x", h[13] & ~TS_FLAG_LABELS);
	for (i = 14; i < 16; i++)
		if (h[i])
			return fail(r, off + i, "reserved byte %d is not zero", i);
	for (i = 28; i < 32; i++)
		if (h[i])
			return fail(r, off + i, "reserved byte %d is not zero", i);
	for (i = 40; i < 64; i++)
		if (h[i])
			return fail(r, off + i, "reserved byte %d is not zero", i);
	s.dtype = h[12];
	s.labels = h[13] & TS_FLAG_LABELS;
	s.c = rd32(h + 16);
	s.h = rd32(h + 20);
	s.w = rd32(h + 24);
	count = rd64(h + 32);
	if (s.c == 0 || s.c > TS_MAX_C)
		return fail(r, off + 16, "channel count %u out of range (1 to %u)", s.c, TS_MAX_C);
	if (s.h == 0 || s.h > TS_MAX_HW)
		return fail(r, off + 20, "height %u out of range (1 to %u)", s.h, TS_MAX_HW);
	if (s.w == 0 || s.w > TS_MAX_HW)
		return fail(r, off + 24, "width %u out of range (1 to %u)", s.w, TS_MAX_HW);
	if (ts_samples(&s) > TS_MAX_SAMPLES)
		return fail(r, off + 16, "record of %ux%ux%u samples exceeds the limit of %u",
		            s.c, s.h, s.w, TS_MAX_SAMPLES);
	if (__builtin_mul_overflow(count, ts_record_bytes(&s), &total) ||
	    total > (UINT64_C(1) << 62))
		return fail(r, off + 32, "record count %llu overflows the stream size",
		            (unsigned long long)count);
	if (r->seg > 0) {
		if (r->uniform && !ts_shape_eq(&s, &r->first)) {
			char a[64], b[64];
			return fail(r, off, "segment shape %s differs from the first segment's %s",
			            ts_shape_str(&s, a, sizeof(a)), ts_shape_str(&r->first, b, sizeof(b)));
		}
	} else {
		r->first = s;
	}
	if (count && (k = input_left(r->f)) >= 0 && total > (uint64_t)k) {
		/* a regular file too short for what the header announces: say
		 * so now, before a program allocates for records never there */
		uint64_t rb = ts_record_bytes(&s), whole = (uint64_t)k / rb, part = (uint64_t)k % rb;
		r->rec += whole;
		if (s.labels && part < 4)
			return fail(r, off + TS_HEADER_LEN + (uint64_t)k, "truncated record (inside "
			            "the label; %llu records of the segment missing)",
			            (unsigned long long)(count - whole));
		return fail(r, off + TS_HEADER_LEN + (uint64_t)k, "truncated record (%llu of %llu "
		            "bytes; %llu records of the segment missing)", (unsigned long long)part,
		            (unsigned long long)rb, (unsigned long long)(count - whole));
	}
	r->shape = s;
	r->left = count;
	r->off += TS_HEADER_LEN;
	return 1;
}

int ts_open(struct ts_reader *r, FILE *f, const char *name, int uniform)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->name = name ? name : "<stdin>";
	r->uniform = uniform;
	return read_header(r) < 0 ? -1 : 0;
}

int ts_more(struct ts_reader *r)
{
	while (!r->left) {
		int k;
		if (r->eof)
			return 0;
		k = read_header(r);
		if (k < 0)
			return -1;
		if (k == 0) {
			r->eof = 1;
			return 0;
		}
	}
	return 1;
}

long ts_read(struct ts_reader *r, void *data, int32_t *labels, long max)
{
	uint64_t db, rb;
	long i, n;
	int k;

	if ((k = ts_more(r)) <= 0)
		return k;
	n = (uint64_t)max < r->left ? max : (long)r->left;
	db = ts_data_bytes(&r->shape);
	rb = ts_record_bytes(&r->shape);
	for (i = 0; i < n; i++) {
		unsigned char lb[4];
		long got;
		if (r->shape.labels) {
			got = read_full(r->f, lb, 4);
			if (got < 0)
				return fail(r, r->off, "read error: %s", strerror(errno));
			if (got < 4)
				return fail(r, r->off + got, "truncated record (inside the label; "
				            "%llu records of the segment missing)",
				            (unsigned long long)r->left);
			if (labels)
				labels[i] = (int32_t)rd32(lb);
		}
		got = read_full(r->f, (char *)data + i * db, db);
		if (got < 0)
			return fail(r, r->off, "read error: %s", strerror(errno));
		if ((uint64_t)got < db)
			return fail(r, r->off + (r->shape.labels ? 4 : 0) + got,
			            "truncated record (%llu of %llu bytes; %llu records of the segment missing)",
			            (unsigned long long)(got + (r->shape.labels ? 4 : 0)),
			            (unsigned long long)rb, (unsigned long long)r->left);
		if (!r->shape.labels && labels)
			labels[i] = 0;
		r->off += rb;
		r->rec++;
		r->left--;
	}
	return n;
}

long ts_read_f32(struct ts_reader *r, float *data, int32_t *labels, long max, void *scratch)
{
	long n;
	if (ts_more(r) <= 0)
		return ts_more(r);
	if (r->shape.dtype == TS_F32)
		return ts_read(r, data, labels, max);
	n = ts_read(r, scratch, labels, max);
	if (n > 0)
		ts_u8_to_f32(scratch, data, (uint64_t)n * ts_samples(&r->shape));
	return n;
}

int ts_write_header(FILE *f, const struct ts_shape *s, uint64_t count)
{
	unsigned char h[TS_HEADER_LEN] = { 0 };
	memcpy(h, ts_magic, 8);
	wr16(h + 8, TS_VERSION);
	wr16(h + 10, TS_HEADER_LEN);
	h[12] = (unsigned char)s->dtype;
	h[13] = s->labels ? TS_FLAG_LABELS : 0;
	wr32(h + 16, s->c);
	wr32(h + 20, s->h);
	wr32(h + 24, s->w);
	wr64(h + 32, count);
	return fwrite(h, 1, sizeof(h), f) == sizeof(h) ? 0 : -1;
}

int ts_write(FILE *f, const struct ts_shape *s, const void *data, const int32_t *labels, long n)
{
	uint64_t db = ts_data_bytes(s);
	if (!s->labels)
		return fwrite(data, db, n, f) == (size_t)n ? 0 : -1;
	for (long i = 0; i < n; i++) {
		unsigned char lb[4];
		wr32(lb, (uint32_t)(labels ? labels[i] : 0));
		if (fwrite(lb, 1, 4, f) != 4 || fwrite((const char *)data + i * db, 1, db, f) != db)
			return -1;
	}
	return 0;
}

int ts_write_segment_f32(FILE *f, const struct ts_shape *s, const float *data,
                         const int32_t *labels, long n, void *scratch)
{
	if (n <= 0)
		return 0;
	if (ts_write_header(f, s, (uint64_t)n))
		return -1;
	if (s->dtype == TS_F32)
		return ts_write(f, s, data, labels, n);
	ts_f32_to_u8(data, scratch, (uint64_t)n * ts_samples(s));
	return ts_write(f, s, scratch, labels, n);
}

void ts_f32_to_u8(const float *in, unsigned char *out, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		float v = in[i] * 255.0f + 0.5f;
		v = v > 0.0f ? v : 0.0f;       /* NaN compares false: becomes 0 */
		v = v < 255.0f ? v : 255.0f;   /* selects, not branches: vectorises */
		out[i] = (unsigned char)v;
	}
}

/* a table: exactly v/255 in float, without a divide per sample; filled
 * before main, so threads may convert at once */
static float u8tab[256];

__attribute__((constructor)) static void u8tab_init(void)
{
	for (int v = 0; v < 256; v++)
		u8tab[v] = v / 255.0f;
}

void ts_u8_to_f32(const unsigned char *in, float *out, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		out[i] = u8tab[in[i]];
}
