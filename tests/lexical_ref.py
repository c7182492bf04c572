#!/usr/bin/env python3
"""Reference for the lexical retrieval test (tests/check_lexical.c).

Generates users, then ranks their history for queries with BM25Okapi and
TF-IDF written here from the published formulas (numpy, float64):

  BM25Okapi   idf(t) = ln(N - df + 0.5) - ln(df + 0.5); the average idf over
              every term of the corpus is taken, then each negative idf is
              replaced by 0.25 x that average (an idf of exactly 0 stays 0);
              score(d) = sum over the query's tokens, repeats included, of
              idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))
              with k1 = 1.5, b = 0.75.
  TF-IDF      idf(t) = ln((1 + N) / (1 + df)) + 1 over unigrams and bigrams
              ("a b"), vectors tf * idf L2-normalized, score = cosine; the
              query's unknown terms are dropped.

Order: higher score first, equal scores the later history item first (LaMP's
np.argsort(scores)[::-1], which is exactly that for up to 16 items; checked
below against numpy itself on small users).

Writes one file (argv[1]) the C test reads, lines separated by '\\n':
  U <kind> <nitems>          kind: bm25 or tfidf
  D <text>                   one line per history item, tokens separated by
                             single spaces
  Q <cutoff> <k> <text>      cutoff = items the query sees (statistics of
                             those items only); the whole history when
                             cutoff = nitems
  R <index> <score>          the expected hits, best first (k lines or fewer)
  E                          end of a user
"""
import math
import random
import sys

import numpy as np

K1, B, EPS = 1.5, 0.75, 0.25


def bm25_scores(docs, query):
    """docs: list of token lists; query: token list -> float64 scores."""
    n = len(docs)
    tf = [dict() for _ in docs]
    df = {}  # insertion order = first occurrence over the corpus
    for i, d in enumerate(docs):
        for w in d:
            tf[i][w] = tf[i].get(w, 0) + 1
        for w in tf[i]:
            df[w] = df.get(w, 0) + 1
    idf = {}
    total = 0.0
    for w, f in df.items():
        idf[w] = math.log(n - f + 0.5) - math.log(f + 0.5)
        total += idf[w]
    floor = EPS * (total / len(idf)) if idf else 0.0
    for w in idf:
        if idf[w] < 0:
            idf[w] = floor
    dl = np.array([len(d) for d in docs], dtype=np.float64)
    avgdl = sum(len(d) for d in docs) / n
    scores = np.zeros(n)
    for w in query:
        f = np.array([t.get(w, 0) for t in tf], dtype=np.float64)
        scores += idf.get(w, 0.0) * (f * (K1 + 1) / (f + K1 * (1 - B + B * dl / avgdl)))
    return scores


def tfidf_terms(tokens):
    return tokens + [a + " " + b for a, b in zip(tokens, tokens[1:])]


def tfidf_scores(docs, query):
    n = len(docs)
    terms = [tfidf_terms(d) for d in docs]
    df = {}
    for t in terms:
        for w in set(t):
            df[w] = df.get(w, 0) + 1
    idf = {w: math.log((1 + n) / (1 + f)) + 1 for w, f in df.items()}
    vocab = {w: i for i, w in enumerate(idf)}
    mat = np.zeros((n, len(vocab)))
    for i, t in enumerate(terms):
        for w in t:
            mat[i, vocab[w]] += idf[w]
    norms = np.sqrt((mat * mat).sum(axis=1))
    norms[norms == 0] = 1
    mat /= norms[:, None]
    q = np.zeros(len(vocab))
    for w in tfidf_terms(query):
        if w in vocab:
            q[vocab[w]] += idf[w]
    qn = math.sqrt(float(q @ q))
    if qn > 0:
        q /= qn
    return mat @ q


def lamp_order(scores, k):
    """Higher score first; ties: the later item first."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], -i))
    return order[:k]


def vocab_word(rng, size):
    # Zipf-like over size words: frequent words are reused, the tail is rare
    return "w%d" % int(size ** rng.random())


def gen_user(rng, n, doc_len, size):
    docs = []
    for i in range(n):
        d = [vocab_word(rng, size) for _ in range(rng.randint(doc_len // 2, doc_len))]
        d.append("the")  # in every item: the most negative idf
        if rng.random() < 0.7:
            d.append("of")  # in most items: negative idf
        if i // 2 % 2 == 0:
            d.append("half")  # items 0, 1, 4, 5, ...: df = N/2 when 4 divides N, idf 0
        rng.shuffle(d)
        docs.append(d)
    for i in range(0, n - 1, 54):  # duplicate items (within a pair): exact ties
        docs[i + 1] = list(docs[i])
    return docs


def queries_for(rng, docs, size):
    qs = []
    for _ in range(6):
        src = docs[rng.randrange(len(docs))]
        q = rng.sample(src, min(len(src), rng.randint(2, 12)))
        q += [vocab_word(rng, size) for _ in range(rng.randint(0, 4))]
        q.append(q[0])  # a repeated query token counts twice
        qs.append(q)
    qs.append(["the", "half"])  # negative idf and idf 0 only
    qs.append(["half"])  # idf exactly 0: every score 0
    qs.append(["zzz-unknown", "nowhere"])  # all-zero scores: ties everywhere
    qs.append(list(docs[0]))  # a duplicated item's own text
    return qs


def write_user(out, kind, docs, queries, k):
    n = len(docs)
    out.write("U %s %d\n" % (kind, n))
    for d in docs:
        out.write("D %s\n" % " ".join(d))
    score = bm25_scores if kind == "bm25" else tfidf_scores
    for cutoff, q in queries:
        s = score(docs[:cutoff], q) if cutoff else np.zeros(0)
        out.write("Q %d %d %s\n" % (cutoff, k, " ".join(q)))
        for i in lamp_order(s, k):
            out.write("R %d %r\n" % (i, float(s[i])))
    out.write("E\n")


def check_numpy_tie_order(rng):
    """For up to 16 items numpy's argsort is stable, so LaMP's reversed
    argsort ranks ties the later item first: the rule used above."""
    for n in range(1, 17):
        for _ in range(50):
            s = np.array([float(rng.randint(0, 2)) for _ in range(n)])
            lamp = [int(i) for i in np.argsort(s)[::-1]]
            assert lamp == lamp_order(s, n), (n, s, lamp)


def main():
    rng = random.Random(20240610)
    check_numpy_tie_order(rng)
    with open(sys.argv[1], "w") as out:
        # heavy users: vocabularies over 40k tokens
        for n, doc_len, size in ((3000, 60, 1000000), (1200, 120, 2000000)):
            docs = gen_user(rng, n, doc_len, size)
            vocab = set(w for d in docs for w in d)
            assert len(vocab) > 40000, len(vocab)
            assert sum("half" in d for d in docs) * 2 == n
            qs = [(n, q) for q in queries_for(rng, docs, size)]
            # replays: item j against the older items only
            qs += [(j, docs[j]) for j in (1, 2, 17, n // 2, n - 1)]
            write_user(out, "bm25", docs, qs, 10)
        # tfidf on a mid-sized user (the reference builds a dense matrix)
        docs = gen_user(rng, 400, 40, 30000)
        qs = [(400, q) for q in queries_for(rng, docs, 30000)] + [(150, docs[150])]
        write_user(out, "tfidf", docs, qs, 10)
        # small users: every item ranked, compared with numpy's own order
        for n in (1, 2, 7, 16):
            docs = gen_user(rng, n, 6, 20)
            qs = [(n, q) for q in queries_for(rng, docs, 20)]
            for cutoff, q in qs:
                s = bm25_scores(docs, q)
                assert [int(i) for i in np.argsort(s)[::-1]] == lamp_order(s, n)
            write_user(out, "bm25", docs, qs, n)


if __name__ == "__main__":
    main()
