#!/usr/bin/env python3
"""The official LaMP scorer (eval/eval_task.py + eval/evaluation.py) for the
classification and rating tasks, re-implemented with the Python standard
library only, as a reference for persona-eval's tests.

It follows the official code step by step: golds and predictions are read into
dicts keyed by id (a duplicate id: the last one wins), the id sets must be
equal, every value goes through str(x).strip(), labels are mapped with
list.index (-1 when absent), accuracy and macro F1 are sklearn's (labels =
range(K), 0 for a label without TP, FP or FN), MAE and RMSE are computed after
the float()-or-farthest-extreme mapping. Means are summed in numpy's pairwise
order so that results agree to the last bit. Deliberate differences: the
official code walks list(set(ids)), whose order changes with PYTHONHASHSEED;
this script walks the golds' file order. And a rating prediction that float()
reads as inf or nan ("inf", "1e400", "nan") is mapped like any unparsable
answer (the farther extreme), as persona-eval does: the official code keeps
the inf or nan and hands it to sklearn's mean_absolute_error through
`evaluate`, which stops with "ValueError: Input contains infinity or NaN", so
it gives no score at all for such a file. A gold that is not a finite number
stops this script, as it stops the official code.

Usage: official_eval.py --golds_json G --preds_json P --task_name LaMP_2M
Prints the result dict as JSON ({"accuracy", "f1"} or {"MAE", "RMSE"}).
"""
import argparse
import json
import math
import sys

MOVIE_TAGS = ['sci-fi', 'based on a book', 'comedy', 'action', 'twist ending', 'dystopia',
              'dark comedy', 'classic', 'psychology', 'fantasy', 'romance',
              'thought-provoking', 'social commentary', 'violence', 'true story']
NEWS_CATEGORIES = ["food & drink", "sports", "education", "parents", "religion", "travel",
                   "business", "crime", "science & technology", "culture & arts",
                   "entertainment", "politics", "women", "style & beauty", "healthy living"]
LABELS = {
    "LaMP_1": ["[1]", "[2]"],
    "LaMP_2": MOVIE_TAGS,
    "LaMP_2M": MOVIE_TAGS,
    "LaMP_2N": NEWS_CATEGORIES,
}


def np_sum(a):
    """numpy's pairwise_sum_DOUBLE."""
    n = len(a)
    if n < 8:
        res = 0.0
        for x in a:
            res += x
        return res
    if n <= 128:
        r = list(a[:8])
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return np_sum(a[:n2]) + np_sum(a[n2:])


def np_mean(a):
    return np_sum([float(x) for x in a]) / len(a)


def create_metric_f1_accuracy(all_labels):
    def create_mapping(x):
        try:
            return all_labels.index(x)
        except ValueError:
            return -1

    def compute_metrics(decoded_preds, decoded_labels):
        preds = [create_mapping(str(x).strip()) for x in decoded_preds]
        refs = [create_mapping(str(x).strip()) for x in decoded_labels]
        accuracy = np_mean([1.0 if r == p else 0.0 for r, p in zip(refs, preds)])
        f1s = []
        for k in range(len(all_labels)):
            tp = sum(1 for r, p in zip(refs, preds) if r == k and p == k)
            fp = sum(1 for r, p in zip(refs, preds) if r != k and p == k)
            fn = sum(1 for r, p in zip(refs, preds) if r == k and p != k)
            true_sum, pred_sum = float(tp + fn), float(tp + fp)
            denom = 1.0 * true_sum + pred_sum
            f1s.append((1.0 + 1.0) * tp / denom if denom != 0 else 0.0)
        return {"accuracy": accuracy, "f1": np_mean(f1s)}
    return compute_metrics


def create_metric_mae_rmse():
    def create_mapping(x, y):
        try:
            v = float(x)
            if math.isfinite(v):
                return v
        except ValueError:
            pass
        y = float(y)
        if not math.isfinite(y):
            raise ValueError("gold %r is not a finite number" % y)
        if abs(1 - y) > abs(5 - y):
            return 1.0
        return 5.0

    def compute_metrics(decoded_preds, decoded_labels):
        preds = [create_mapping(str(x).strip(), str(y).strip())
                 for x, y in zip(decoded_preds, decoded_labels)]
        refs = [create_mapping(str(x).strip(), str(x).strip()) for x in decoded_labels]
        mae = np_mean([abs(p - r) for r, p in zip(refs, preds)])
        rmse = math.sqrt(np_mean([(r - p) ** 2 for r, p in zip(refs, preds)]))
        return {"MAE": mae, "RMSE": rmse}
    return compute_metrics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golds_json", required=True)
    ap.add_argument("--preds_json", required=True)
    ap.add_argument("--task_name", required=True)
    args = ap.parse_args()
    with open(args.golds_json, encoding="utf-8") as f:
        golds_file = json.load(f)
    with open(args.preds_json, encoding="utf-8") as f:
        preds_file = json.load(f)
    assert preds_file["task"] == args.task_name, "task name mismatch"
    golds = {g["id"]: g["output"] for g in golds_file["golds"]}
    preds = {p["id"]: p["output"] for p in preds_file["golds"]}
    assert set(golds.keys()) == set(preds.keys()), "Predictions ids and gold ids do not match."
    ids = list(golds.keys())
    gold_values = [golds[i] for i in ids]
    pred_values = [preds[i] for i in ids]
    if args.task_name == "LaMP_3":
        metric = create_metric_mae_rmse()
    else:
        metric = create_metric_f1_accuracy(LABELS[args.task_name])
    json.dump(metric(pred_values, gold_values), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
