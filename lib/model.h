/* model.h - the model file format, see cae-model(5)
 *
 * A model file holds an architecture, the input shape it was trained on,
 * the parameters and batch-norm state, and optionally the training state
 * needed to resume a run exactly where it stopped. All numbers are
 * little-endian; a CRC-32 over everything before it ends the file.
 */
#ifndef CAE_MODEL_H
#define CAE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nn.h"

#define MODEL_VERSION 1
#define MODEL_MAX_SPEC 4096           /* architecture spec bytes */
#define MODEL_MAX_BYTES (UINT64_C(1) << 32)

extern const unsigned char model_magic[8];

enum { NOISE_NONE = 0, NOISE_SIGMA, NOISE_RANGE };
#define TRAIN_CLIP 0x1u       /* noisy inputs clipped to [0,1] */
#define TRAIN_TARGETS 0x2u    /* explicit targets (--target) */
#define TRAIN_COSINE 0x4u     /* learning rate decays to 0 on a half cosine */

/* Everything a resumed run needs to continue bit for bit: optimizer and
 * its moments, position, and the options that shape the run. */
struct train_state {
	uint32_t optimizer, loss, batch;  /* enum optim_kind, enum loss_kind */
	float lr, beta1, beta2, eps, momentum;  /* lr: the base rate */
	uint64_t t;                  /* optimizer steps taken */
	uint64_t seed;
	uint32_t epochs;             /* planned */
	uint32_t epoch;              /* completed */
	uint64_t step;               /* batches completed in the current epoch */
	uint32_t noise;              /* NOISE_* */
	float sigma_lo, sigma_hi;
	uint32_t flags;              /* TRAIN_* */
	uint64_t ntrain, nheld;      /* training images; held out at the end */
	uint32_t data_crc;           /* CRC-32 of the training data */
	double loss_sum;             /* current epoch so far: sum of losses */
	uint64_t loss_count;         /* ... weighted by this many images */
	uint64_t nm, nv;             /* moment counts: 0 or the parameter count */
	float *m, *v;
};

struct model {
	char spec[MODEL_MAX_SPEC];   /* canonical architecture spec */
	struct arch arch;
	uint32_t c, h, w;            /* input shape it was trained on */
	uint64_t nparams, nstate;
	float *params, *state;
	int has_train;
	struct train_state tr;
};

/* Writes M to F (magic, sections, CRC). M's arrays are only read.
 * Returns 0, or -1 with errno set on a write error. */
int model_write(FILE *f, const struct model *m);

/* Writes M to PATH atomically (temporary file, fsync, rename), or
 * directly when PATH names an existing non-regular file such as a device.
 * die()s on any error, leaving an earlier file under PATH untouched. */
void model_save(const char *path, const struct model *m);

/* Parses and checks the LEN bytes of a model file: magic, version,
 * structure, CRC, sections, architecture, and that the parameter and
 * state counts match what the architecture needs for its input shape.
 * On success fills M (free with model_free) and returns 0; on failure
 * returns -1 with "NAME: what is wrong" in err and M empty. */
int model_decode(const unsigned char *buf, size_t len, const char *name,
                 struct model *m, char *err, size_t errlen);

/* Reads PATH ("-" is stdin) and decodes it as model_decode does. */
int model_load(const char *path, struct model *m, char *err, size_t errlen);

/* Frees the arrays of a model filled by model_decode or model_load. */
void model_free(struct model *m);

/* Builds M's network for input (c,h,w), batches up to max_batch, with M's
 * parameters and state copied in. Returns NULL with err set when the
 * shape does not suit the architecture or the counts differ. */
struct net *model_net(const struct model *m, int c, int h, int w, int max_batch,
                      char *err, size_t errlen);

#endif
