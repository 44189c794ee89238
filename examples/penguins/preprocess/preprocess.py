"""Drop incomplete rows and keep the numeric features: /gcs paths in, /gcs paths out, as on Vertex AI."""
import argparse
import csv
import os

FEATURES = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]

parser = argparse.ArgumentParser()
parser.add_argument("--input", required=True)
parser.add_argument("--output", required=True)
args = parser.parse_args()

with open(args.input, newline="") as fh:
    rows = [r for r in csv.DictReader(fh) if all(r[f] != "NA" for f in FEATURES)]
os.makedirs(os.path.dirname(args.output), exist_ok=True)
with open(args.output, "w", newline="") as fh:
    writer = csv.DictWriter(fh, fieldnames=["species", *FEATURES])
    writer.writeheader()
    writer.writerows({k: r[k] for k in ["species", *FEATURES]} for r in rows)
print(f"preprocess: kept {len(rows)} complete rows of {args.input} in {args.output}")
