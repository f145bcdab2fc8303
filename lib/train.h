/* train.h - the training loop of ae-train: data set in memory, shuffling,
 * noise, validation, checkpoints and resuming
 *
 * Every random choice is derived from the seed and the position in the
 * run (epoch, place in the epoch, image), never from a running generator,
 * so a run stopped anywhere and resumed from its checkpoint continues
 * exactly as if it had not stopped.
 */
#ifndef CAE_TRAIN_H
#define CAE_TRAIN_H

#include <stdint.h>

#include "stream.h"

/* Options as given; "unset" values let a resumed run keep its own. */
struct train_opts {
	const char *input;        /* training stream, "-" for stdin */
	const char *output;       /* model file (checkpoints too) */
	const char *target;       /* explicit targets, or NULL */
	const char *val, *val_target;
	const char *resume;       /* model with training state, or NULL */
	const char *log;          /* TSV log, or NULL */
	const char *arch;         /* preset or spec; NULL: unset */
	long epochs, batch;       /* 0: unset */
	double lr;                /* 0: unset */
	int optimizer, loss;      /* -1: unset */
	int noise;                /* NOISE_*, -1: unset */
	double sigma_lo, sigma_hi;
	int clip;                 /* -1: unset */
	int cosine;               /* 1: cosine decay, 0: constant, -1: unset */
	double val_split;         /* < 0: unset */
	int seed_set;
	uint64_t seed;
	int threads;
	long checkpoint_every;    /* steps; 0: only at the end of each epoch */
	int no_state, quiet;
};

#define TRAIN_DEF_ARCH "seed-best"
#define TRAIN_DEF_EPOCHS 5
#define TRAIN_DEF_BATCH 32

/* A whole uniform stream in memory, samples kept in the stream's dtype
 * (u8 images cost one byte a sample; a batch is converted when used). */
struct dataset {
	const char *name;
	struct ts_shape shape;
	uint64_t n;               /* records */
	uint64_t dbytes;          /* bytes of samples per record */
	unsigned char *data;      /* (n, C, H, W) in shape.dtype */
};

/* Reads PATH ("-" is stdin) to the end. f32 samples must be finite; a NaN
 * or infinity is reported with its record and position. die()s on error. */
void dataset_load(struct dataset *d, const char *path);
/* Image I as floats (u8 v -> v/255) into OUT (C*H*W floats). */
void dataset_image(const struct dataset *d, uint64_t i, float *out);
void dataset_free(struct dataset *d);

/* Runs ae-train: loads the data (and the model to resume), trains,
 * validates, logs and writes checkpoints and the final model. Returns the
 * exit status: 0 done, 130 or 143 after SIGINT or SIGTERM (a checkpoint
 * was written). die()s on errors, usage_die()s on option conflicts with a
 * resumed run. */
int train_run(const struct train_opts *o);

#endif
