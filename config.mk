# cae version
VERSION = 0.1.0

# paths
PREFIX = /usr/local
MANPREFIX = $(PREFIX)/share/man

PKG_CONFIG = pkg-config
PKGS = libpng openblas zlib

CC = cc
OPT = -O2 -march=native
CPPFLAGS = -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -DVERSION=\"$(VERSION)\"
CFLAGS = -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter $(OPT) \
         -fopenmp-simd $(shell $(PKG_CONFIG) --cflags $(PKGS))
LDFLAGS =
LDLIBS = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lm -lpthread
