#!/usr/bin/env bash
# Installs the Debian packages Casebook needs (apt-get; sudo when not root). Quiet and idempotent:
# nothing is installed when everything is already there.
set -euo pipefail
# DICOM (pydicom and dcmtk as independent readers, CharLS/OpenJPEG/libjpeg-turbo decoders, GDCM as a reference),
# OCR (tesseract, pdftoppm, ImageMagick), speech (pocketsphinx, ffmpeg), and what the tests use to make scans and
# dictations (fonts-dejavu-core, espeak-ng, ghostscript for an encrypted PDF), the browser the server's page tests drive (chromium),
# OpenMP for LightGBM's native library (finding classifiers, libgomp1), and the DICOMweb peer the server's round-trip
# test runs (Orthanc with its DICOMweb plugin), and the cluster's servers (nats-server for the JetStream log,
# redis-server for Orleans membership; docs/cluster.md).
PACKAGES=(ca-certificates zstd python3-pydicom dcmtk python3-numpy libcharls2 libopenjp2-7 libturbojpeg0 libgdcm-tools
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd poppler-utils imagemagick ghostscript fonts-dejavu-core
  pocketsphinx pocketsphinx-en-us ffmpeg espeak-ng chromium libgomp1 orthanc orthanc-dicomweb
  nats-server redis-server)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "casebook: installing system packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
