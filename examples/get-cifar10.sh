#!/bin/sh
# Makes CIFAR-10 available in data/cifar-10-batches-bin (or says how).
# Order: $CIFAR10 if set, an existing data/cifar-10-batches-bin, the JPEG copy
# in ../shared/data (converted with its make-cifar10-bin), then a download of
# the official cifar-10-binary.tar.gz with curl.
set -u
cd "$(dirname "$0")/.." || exit 1
dest=data/cifar-10-batches-bin
url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz

if [ -n "${CIFAR10:-}" ]; then
	[ -e "$CIFAR10" ] && { echo "$CIFAR10"; exit 0; }
	echo "get-cifar10: CIFAR10=$CIFAR10 does not exist" >&2
	exit 1
fi
if [ -f "$dest/data_batch_1.bin" ]; then
	echo "$dest"
	exit 0
fi
mkdir -p data
if [ -x ../shared/data/make-cifar10-bin ] && [ -f ../shared/data/cifar10-train-jpeg.tar.xz ]; then
	echo "get-cifar10: converting ../shared/data/cifar10-train-jpeg.tar.xz into $dest" >&2
	if ../shared/data/make-cifar10-bin ../shared/data/cifar10-train-jpeg.tar.xz "$dest" >&2; then
		echo "$dest"
		exit 0
	fi
	echo "get-cifar10: conversion failed (it needs: apt-get install -y python3-pil)" >&2
fi
echo "get-cifar10: downloading $url" >&2
if curl -fL --retry 2 -o data/cifar-10-binary.tar.gz.part "$url" &&
   mv data/cifar-10-binary.tar.gz.part data/cifar-10-binary.tar.gz &&
   tar -xzf data/cifar-10-binary.tar.gz -C data; then
	echo "$dest"
	exit 0
fi
rm -f data/cifar-10-binary.tar.gz.part
cat >&2 <<EOT
get-cifar10: could not find or download CIFAR-10.
Get the binary version from $url
on a machine with network access, then either
  - unpack it here:   tar -xzf cifar-10-binary.tar.gz -C data
  - or point to it:   CIFAR10=/path/to/cifar-10-batches-bin make demo
    (the .tar.gz file itself works too: CIFAR10=/path/to/cifar-10-binary.tar.gz)
EOT
exit 1
