"""A nearest-centroid classifier on the prepared data; the model goes to AIP_MODEL_DIR (a gs:// URI, as Vertex
AI sets it, written through its /gcs mount), and the job fails if the training accuracy is poor."""
import argparse
import csv
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--min-accuracy", type=float, default=0.9)
args = parser.parse_args()

with open(args.data, newline="") as fh:
    rows = list(csv.DictReader(fh))
features = [k for k in rows[0] if k != "species"]
centroids = {}
for species in sorted({r["species"] for r in rows}):
    members = [r for r in rows if r["species"] == species]
    centroids[species] = [sum(float(r[f]) for r in members) / len(members) for f in features]
scale = [max(float(r[f]) for r in rows) - min(float(r[f]) for r in rows) or 1.0 for f in features]


def predict(row):
    x = [float(row[f]) for f in features]
    return min(centroids, key=lambda s: sum(((a - b) / w) ** 2 for a, b, w in zip(x, centroids[s], scale)))


accuracy = sum(predict(r) == r["species"] for r in rows) / len(rows)
model_dir = os.environ["AIP_MODEL_DIR"].replace("gs://", "/gcs/", 1)
os.makedirs(model_dir, exist_ok=True)
with open(os.path.join(model_dir, "model.json"), "w") as fh:
    json.dump({"features": features, "scale": scale, "centroids": centroids, "accuracy": accuracy}, fh, indent=1)
print(f"train: {len(rows)} rows, training accuracy {accuracy:.2f}, model in {os.environ['AIP_MODEL_DIR']}")
raise SystemExit(0 if accuracy >= args.min_accuracy else 1)
