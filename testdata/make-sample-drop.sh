#!/usr/bin/env bash
# make-sample-drop.sh — writes the small sample "leak" the demo ingests: a few document
# types, a duplicate, a misnamed file, a symlink, a non-UTF-8 name. Deterministic: the same
# bytes every run, so the files under testdata/sample-drop are this script's output.
set -euo pipefail
out=${1:-"$(dirname "$0")/sample-drop"}
rm -rf "$out"
mkdir -p "$out/contracts" "$out/finance" "$out/mail"

cat >"$out/contracts/supply-agreement.txt" <<'TXT'
SUPPLY AGREEMENT
between Northwind Minerals Ltd ("Supplier") and Harbor Shipping SA ("Buyer")
1. The Supplier shall deliver 12,000 t of ore per quarter.
2. Payment: 45 days net to account CH93 0076 2011 6238 5295 7.
Signed in Geneva, 3 March 2024.
TXT
cp "$out/contracts/supply-agreement.txt" "$out/contracts/supply-agreement (copy).txt"

# A minimal valid PDF (one empty page).
printf '%s\n' '%PDF-1.4' '1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj' \
	'2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj' \
	'3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>> endobj' \
	'trailer <</Root 1 0 R>>' '%%EOF' >"$out/contracts/side-letter.pdf"
# The same PDF bytes under a name that claims to be a Word document.
cp "$out/contracts/side-letter.pdf" "$out/contracts/side-letter.docx"

printf 'date,account,amount_eur,memo\n2024-03-04,CH93-0076,1250000.00,advance\n2024-04-18,CH93-0076,-40000.00,fee\n2024-05-02,LU28-0019,890000.00,"consulting, Q2"\n' \
	>"$out/finance/transfers-2024.csv"

cat >"$out/mail/re-shipment.eml" <<'MAIL'
From: "J. Keller" <j.keller@northwind.example>
To: ops@harbor.example
Subject: Re: shipment 44-B
Date: Tue, 05 Mar 2024 09:12:44 +0100
Message-ID: <44b-reply@northwind.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Please route the March cargo through the second account as discussed.
-- 
J.
MAIL

# A name that is not UTF-8 (Latin-1 "Übersicht"), kept as bytes.
printf 'Quartalsübersicht\n' >"$out/finance/$(printf '\xdcbersicht.txt')"
ln -s ../contracts/supply-agreement.txt "$out/mail/see-agreement"
