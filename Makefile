# cae - convolutional autoencoder toolkit

include config.mk

LIBSRC = $(wildcard lib/*.c)
LIBOBJ = $(LIBSRC:.c=.o)
LIBHDR = $(wildcard lib/*.h)
PROGSRC = $(wildcard bin/*.c)
PROGS = $(PROGSRC:.c=)
UNITSRC = $(wildcard tests/unit/*.c)
UNITS = $(UNITSRC:.c=)
MAN1 = $(wildcard man/*.1)
MAN5 = $(wildcard man/*.5)

all: lib/libcae.a $(PROGS) $(UNITS)

lib/libcae.a: $(LIBOBJ)
	rm -f $@
	$(AR) rcs $@ $(LIBOBJ)

lib/%.o: lib/%.c $(LIBHDR) config.mk
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

bin/%: bin/%.c lib/libcae.a $(LIBHDR)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Ilib -o $@ $< lib/libcae.a $(LDFLAGS) $(LDLIBS)

tests/unit/%: tests/unit/%.c lib/libcae.a $(LIBHDR) $(wildcard tests/unit/*.h)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Ilib -o $@ $< lib/libcae.a $(LDFLAGS) $(LDLIBS)

check: all
	sh tests/run.sh

# Debian packages needed to build and test (and, optionally, to compare
# with PyTorch in bench/: python3-torch).
DEBS = build-essential pkg-config libpng-dev libopenblas-dev zlib1g-dev mandoc \
       python3-numpy python3-pil valgrind time
deps:
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -q
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends $(DEBS)

# CIFAR-10 in its official binary layout, made from the JPEG copy in
# ../shared when it is there (see README).
data:
	sh examples/get-cifar10.sh

lint:
	mandoc -Tlint -Wwarning $(MAN1) $(MAN5)

# libFuzzer harnesses (clang, ASan, UBSan): fuzz/*.c, see fuzz/run.sh
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -fopenmp-simd
FUZZSRC = $(wildcard fuzz/*.c)
FUZZBINS = $(FUZZSRC:fuzz/%.c=fuzz/out/%)
fuzz-build: $(FUZZBINS)
fuzz/out/%: fuzz/%.c fuzz/tarfix.h $(LIBSRC) $(LIBHDR)
	mkdir -p fuzz/out
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(CPPFLAGS) -Ilib $$($(PKG_CONFIG) --cflags $(PKGS)) -o $@ $< \
		$(LIBSRC) $(LDLIBS)
fuzz: fuzz-build
	sh fuzz/run.sh 600

demo: all
	sh examples/demo.sh

study: all
	sh examples/study.sh

bench: all
	sh bench/run.sh

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man5
	cp -f $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	cd $(DESTDIR)$(PREFIX)/bin && chmod 755 $(notdir $(PROGS))
	cp -f $(MAN1) $(DESTDIR)$(MANPREFIX)/man1/
	cp -f $(MAN5) $(DESTDIR)$(MANPREFIX)/man5/
	cd $(DESTDIR)$(MANPREFIX)/man1 && chmod 644 $(notdir $(MAN1))
	cd $(DESTDIR)$(MANPREFIX)/man5 && chmod 644 $(notdir $(MAN5))

uninstall:
	cd $(DESTDIR)$(PREFIX)/bin && rm -f $(notdir $(PROGS))
	cd $(DESTDIR)$(MANPREFIX)/man1 && rm -f $(notdir $(MAN1))
	cd $(DESTDIR)$(MANPREFIX)/man5 && rm -f $(notdir $(MAN5))

clean:
	rm -f lib/*.o lib/libcae.a $(PROGS) $(UNITS)
	rm -rf tests/out

.PHONY: deps data fuzz fuzz-build all check lint demo study bench install uninstall clean
