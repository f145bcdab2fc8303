#!/bin/sh
# Finds CIFAR-10, or makes it available in data/cifar-10-batches-bin (or
# says how), and prints its absolute path.
# Usage: examples/get-cifar10.sh [LOCATION]
# Order: LOCATION (a directory, batch file or the official .tar.gz; relative
# to the current directory or to the top of the tree), else $CIFAR10, an
# existing data/cifar-10-batches-bin, the JPEG copy in ../shared/data
# (converted with its make-cifar10-bin), then a download of the official
# cifar-10-binary.tar.gz with curl.
set -u
given=${1:-${CIFAR10:-}}
top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
if [ -n "$given" ]; then
	if [ -e "$given" ]; then
		case $given in
		/*) echo "$given" ;;
		*) echo "$(pwd)/$given" ;;
		esac
		exit 0
	fi
	case $given in /*) ;; *) [ -e "$top/$given" ] && { echo "$top/$given"; exit 0; } ;; esac
	echo "get-cifar10: $given does not exist" >&2
	exit 1
fi
cd "$top" || exit 1
dest=data/cifar-10-batches-bin
url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz

if [ -f "$dest/data_batch_1.bin" ]; then
	echo "$top/$dest"
	exit 0
fi
mkdir -p data
if [ -x ../shared/data/make-cifar10-bin ] && [ -f ../shared/data/cifar10-train-jpeg.tar.xz ]; then
	echo "get-cifar10: converting ../shared/data/cifar10-train-jpeg.tar.xz into $dest" >&2
	if ../shared/data/make-cifar10-bin ../shared/data/cifar10-train-jpeg.tar.xz "$dest" >&2; then
		echo "$top/$dest"
		exit 0
	fi
	echo "get-cifar10: conversion failed (it needs: apt-get install -y python3-pil)" >&2
fi
echo "get-cifar10: downloading $url" >&2
if curl -fL --retry 2 -o data/cifar-10-binary.tar.gz.part "$url" &&
   mv data/cifar-10-binary.tar.gz.part data/cifar-10-binary.tar.gz &&
   tar -xzf data/cifar-10-binary.tar.gz -C data; then
	echo "$top/$dest"
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
