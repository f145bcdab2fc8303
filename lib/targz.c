/* targz.c - a small streaming reader for gzip-compressed tar archives
 *
 * The archive is inflated by zlib's gz layer and walked in 512-byte
 * blocks. Every number in a header is untrusted: sizes are parsed
 * strictly, bounded by TGZ_SIZE_MAX, and the header checksum is verified
 * so that gzip data that is not a tar archive is named as such. */
#include "targz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512
#define SKIPBUF 16384

static int fail(struct targz *t, const char *fmt, ...)
{
	char msg[sizeof(t->err) - 64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(t->err, sizeof(t->err), "%s: %s", t->path, msg);
	return -1;
}

/* Reports a zlib error (not the "unexpected end of file" kind, which the
 * callers describe as a truncation in their own terms). */
static int zfail(struct targz *t, int errnum, const char *zmsg)
{
	if (errnum == Z_ERRNO)
		return fail(t, "read error: %s", strerror(errno));
	if (errnum == Z_MEM_ERROR)
		return fail(t, "out of memory while inflating");
	/* gzerror() puts the path in front; it is already in our prefix */
	size_t n = strlen(t->path);
	if (zmsg && !strncmp(zmsg, t->path, n) && !strncmp(zmsg + n, ": ", 2))
		zmsg += n + 2;
	return fail(t, "corrupt gzip data (zlib: %s)", zmsg ? zmsg : "error");
}

/* Reads up to N inflated bytes. Returns the count (short only at the end
 * of the data, which includes a gzip stream cut short), or -1 on a zlib
 * or read error. */
static long get(struct targz *t, void *buf, size_t n)
{
	size_t got = 0;
	int errnum;
	const char *m;

	while (got < n) {
		size_t want = n - got;
		int r = gzread(t->gz, (char *)buf + got, want > (1u << 30) ? 1u << 30 : (unsigned)want);
		if (r <= 0) {
			m = gzerror(t->gz, &errnum);
			if (errnum != Z_OK && errnum != Z_BUF_ERROR)
				return zfail(t, errnum, m);
			break;
		}
		got += (size_t)r;
	}
	t->off += got;
	return (long)got;
}

/* 1 if the gzip stream was cut short (as opposed to ending cleanly). */
static int cut_short(struct targz *t)
{
	int errnum;
	gzerror(t->gz, &errnum);
	return errnum == Z_BUF_ERROR;
}

/* Discards N bytes. Returns the number discarded (short at the end of the
 * data) or -1. */
static int64_t discard(struct targz *t, uint64_t n)
{
	unsigned char sink[SKIPBUF];
	uint64_t done = 0;
	while (done < n) {
		size_t want = n - done < SKIPBUF ? (size_t)(n - done) : SKIPBUF;
		long r = get(t, sink, want);
		if (r < 0)
			return -1;
		done += (uint64_t)r;
		if ((size_t)r < want)
			break;
	}
	return (int64_t)done;
}

int tgz_number(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (len == 0)
		return -1;
	if (f[0] & 0x80) {
		/* base-256 (GNU): big-endian, top bit of the first byte is the
		 * marker; a set sign bit (0xff...) means a negative number */
		if (f[0] & 0x40)
			return -1;
		v = f[0] & 0x3f;
		for (i = 1; i < len; i++) {
			if (v > (UINT64_MAX >> 8))
				return -1;
			v = v << 8 | f[i];
		}
	} else {
		int digits = 0;
		while (i < len && f[i] == ' ')
			i++;
		for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
			if (v > (UINT64_MAX >> 3))
				return -1;
			v = v << 3 | (uint64_t)(f[i] - '0');
		}
		if (!digits)
			return -1;
		for (; i < len; i++)
			if (f[i] != ' ' && f[i] != '\0')
				return -1;
	}
	if (v > TGZ_SIZE_MAX)
		return -1;
	*out = v;
	return 0;
}

/* Historic tars summed signed chars; accept either sum. */
static int checksum_ok(const unsigned char *b)
{
	uint64_t want;
	long us = 0, ss = 0;
	if (tgz_number(b + 148, 8, &want))
		return 0;
	for (int i = 0; i < BLOCK; i++) {
		int in_field = i >= 148 && i < 156;
		us += in_field ? ' ' : b[i];
		ss += in_field ? ' ' : (signed char)b[i];
	}
	return (uint64_t)us == want || (ss >= 0 && (uint64_t)ss == want);
}

static int all_zero(const unsigned char *b)
{
	for (int i = 0; i < BLOCK; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Full name of a ustar header: the POSIX prefix field joins the name
 * field with a slash (GNU headers use that area for other things). */
static void header_name(struct targz *t, const unsigned char *b)
{
	size_t nl = strnlen((const char *)b, 100), pl = 0;
	if (!memcmp(b + 257, "ustar\0", 6))
		pl = strnlen((const char *)b + 345, 155);
	if (pl) {
		memcpy(t->name, b + 345, pl);
		t->name[pl] = '/';
		memcpy(t->name + pl + 1, b, nl);
		t->name[pl + 1 + nl] = '\0';
	} else {
		memcpy(t->name, b, nl);
		t->name[nl] = '\0';
	}
}

int tgz_open(struct targz *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	t->path = path;
	t->ordinal = -1;
	if (!(t->gz = gzopen(path, "rb")))
		return errno ? fail(t, "%s", strerror(errno)) : fail(t, "cannot open");
	gzbuffer(t->gz, 1u << 18);
	if (gzdirect(t->gz)) {
		gzclose(t->gz);
		t->gz = NULL;
		return fail(t, "not gzip data");
	}
	return 0;
}

int tgz_next(struct targz *t)
{
	unsigned char b[BLOCK];
	char longname[TGZ_NAME_MAX];
	int have_long = 0, zeros = 0;

	if (t->end)
		return 0;
	if (t->left + t->pad) {
		uint64_t want = t->left + t->pad;
		int64_t r = discard(t, want);
		if (r < 0)
			return -1;
		if ((uint64_t)r < want) {
			uint64_t had = t->size - t->left + ((uint64_t)r < t->left ? (uint64_t)r : t->left);
			return fail(t, "truncated tar member %s (%llu of %llu bytes)", t->name,
			            (unsigned long long)had, (unsigned long long)t->size);
		}
		t->left = t->pad = 0;
	}
	for (;;) {
		uint64_t at = t->off, size, data;
		long r = get(t, b, BLOCK);
		int type;

		if (r < 0)
			return -1;
		if (r == 0) {
			if (cut_short(t))
				return fail(t, "truncated gzip data (unexpected end of file at byte %llu "
				            "of the archive)", (unsigned long long)at);
			t->end = 1;
			return 0;
		}
		if (r < BLOCK)
			return fail(t, "truncated tar header at byte %llu (%ld of %d bytes)",
			            (unsigned long long)at, r, BLOCK);
		if (all_zero(b)) {
			if (++zeros == 2) {
				t->end = 1;
				return 0;
			}
			continue;
		}
		zeros = 0;
		if (!checksum_ok(b))
			return fail(t, "bad tar header checksum at byte %llu (not a tar archive?)",
			            (unsigned long long)at);
		if (tgz_number(b + 124, 12, &size))
			return fail(t, "bad size field in the tar header at byte %llu",
			            (unsigned long long)at);
		type = b[156];
		/* links, devices, directories and FIFOs carry no data whatever
		 * their size field says */
		data = type >= '1' && type <= '6' ? 0 : size;
		t->pad = (BLOCK - data % BLOCK) % BLOCK;
		if (type == '0' || type == '\0' || type == '7') {
			if (have_long == 1)
				memcpy(t->name, longname, sizeof(longname));
			else if (have_long == 2)
				t->name[0] = '\0';
			else
				header_name(t, b);
			t->size = t->left = size;
			t->ordinal++;
			return 1;
		}
		if (type == 'L' && data < TGZ_NAME_MAX) {
			/* GNU long name for the next header */
			long got = get(t, longname, (size_t)data);
			if (got < 0)
				return -1;
			if ((uint64_t)got < data)
				return fail(t, "truncated GNU long name at byte %llu", (unsigned long long)at);
			longname[data] = '\0';
			have_long = 1;
		} else {
			/* pax headers, over-long names and unknown types: skipped */
			int64_t got = discard(t, data);
			if (got < 0)
				return -1;
			if ((uint64_t)got < data)
				return fail(t, "truncated tar archive (entry at byte %llu)",
				            (unsigned long long)at);
			have_long = type == 'L' ? 2 : 0;
		}
		if (t->pad) {
			int64_t got = discard(t, t->pad);
			if (got < 0)
				return -1;
			if ((uint64_t)got < t->pad)
				return fail(t, "truncated tar archive (entry at byte %llu)",
				            (unsigned long long)at);
			t->pad = 0;
		}
	}
}

long tgz_read(struct targz *t, void *buf, size_t n)
{
	long r;
	if (t->left == 0)
		return 0;
	if (n > t->left)
		n = (size_t)t->left;
	if (n > (1u << 30))
		n = 1u << 30;
	if ((r = get(t, buf, n)) < 0)
		return -1;
	t->left -= (uint64_t)r;
	if ((size_t)r < n)
		return fail(t, "truncated tar member %s (%llu of %llu bytes)", t->name,
		            (unsigned long long)(t->size - t->left), (unsigned long long)t->size);
	return r;
}

int tgz_drain(struct targz *t)
{
	int64_t r;
	do {
		if ((r = discard(t, UINT64_C(1) << 30)) < 0)
			return -1;
	} while (r == (int64_t)1 << 30);
	if (cut_short(t))
		return fail(t, "truncated gzip data (unexpected end of file)");
	t->left = t->pad = 0;
	t->end = 1;
	return 0;
}

int tgz_rewind(struct targz *t)
{
	if (gzrewind(t->gz))
		return fail(t, "cannot rewind: %s", strerror(errno));
	t->ordinal = -1;
	t->off = 0;
	t->left = t->pad = t->size = 0;
	t->end = 0;
	t->name[0] = '\0';
	return 0;
}

void tgz_close(struct targz *t)
{
	if (t->gz)
		gzclose(t->gz);
	t->gz = NULL;
}
