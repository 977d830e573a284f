# %% [markdown]
# # cartseq from Python: log -> sequences -> patterns -> rules -> features -> model -> report
#
# A notebook as a plain script (cells start with `# %%`; Jupyter, VS Code and `jupytext` open it as a
# notebook). Run it with `python examples/notebook.py [OUT_DIR]`; pytest runs it as a test
# (`pytest examples/notebook.py`). It reads the shipped Taobao sample, so it takes seconds.
#
# Needs the `cartseq` wheel (README, "Python") and pandas. The model step calls the `cartseq` binary
# (`cargo build --release`) to train, as a team would hand a model file to the analysts; it is skipped
# when the binary is not built.

# %%
from __future__ import annotations

import html
import subprocess
import sys
import tempfile
from pathlib import Path

import cartseq

REPO = Path(__file__).resolve().parents[1]
LOG = REPO / "data" / "samples" / "taobao_sample.csv"


def main(out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    import pandas as pd

    # %% 1. The log, as an analyst has it: a pandas DataFrame.
    events = cartseq.read_events(LOG, "taobao").to_pandas()
    assert {"user", "item", "action", "time"} <= set(events.columns)
    funnel = events.groupby("action").size().sort_values(ascending=False)

    # %% 2. Sequences: one per user session (a 1 h pause starts a new one), tokens like cart_add:123.
    seqs = cartseq.sequences(events, user="user", item="item", action="action", time="time",
                             token="action:item", session_gap="1h")
    # the same as reading the file with the CLI's options
    assert len(seqs) == len(cartseq.read_sequences(LOG, "taobao", token="action:item", session_gap="1h"))

    # %% 3. Patterns: frequent sequences of actions (tokens = actions only), at least 2 steps.
    by_action = cartseq.sequences(events, user="user", item="item", action="action", time="time",
                                  token="action", session_gap="1h")
    patterns = cartseq.mine(by_action, min_support=0.01, min_items=2, max_items=4).to_pandas()
    assert len(patterns) > 0 and (patterns.support > 0).all()

    # %% 4. Rules: "A then B" between items, and what follows a cart add.
    rules = cartseq.rules(seqs, kind="sequential", min_support="#3", min_confidence=0.3, sort="lift").to_pandas()
    after = cartseq.next_after(seqs, "cart_add:4350284", top=5).to_pandas()

    # %% 5. Features: the purchase task (will the user buy in the next day?) with 5 pattern features.
    feats = cartseq.task(LOG, "purchase", "taobao", pattern_features=5).to_pandas()
    assert {"user_id", "split", "label"} <= set(feats.columns)
    pattern_cols = [c for c in feats.columns if c.startswith("pat")]

    # %% 6. Model: trained by the CLI on the same table, scored here.
    exe = REPO / "target" / "release" / "cartseq"
    model_line = "model step skipped: build the binary with `cargo build --release`"
    if exe.exists():
        csv, model_file = out_dir / "features.csv", out_dir / "model.json"
        subprocess.run([str(exe), "task", str(LOG), "--preset", "taobao", "--task", "purchase",
                        "--pattern-features", "5", "-o", str(csv), "-q"], check=True)
        subprocess.run([str(exe), "train", str(csv), "--model", "logreg", "-o", str(model_file), "-q"], check=True)
        model = cartseq.load_model(model_file)
        test = feats[feats.split == "test"]
        p = model.predict_proba(test)[:, 1]
        # ROC-AUC by the rank formula, no sklearn needed
        y = test.label.to_numpy()
        ranks = pd.Series(p).rank().to_numpy()
        pos = y.sum()
        auc = (ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * (len(y) - pos)) if 0 < pos < len(y) else float("nan")
        model_line = f"{model.name} on {len(test)} test rows: ROC-AUC {auc:.3f}"

    # %% 7. Report: one self-contained HTML page.
    def table(df, n=10):
        return df.head(n).to_html(index=False, escape=True)

    page = f"""<!doctype html><meta charset="utf-8"><title>cartseq notebook report</title>
<h1>cartseq: {html.escape(LOG.name)}</h1>
<p>{len(events):,} events, {len(seqs):,} sessions; {len(feats):,} task rows, {len(pattern_cols)} pattern columns.</p>
<h2>Funnel</h2>{funnel.to_frame('events').to_html()}
<h2>Frequent action patterns</h2>{table(patterns[['pattern', 'support', 'relative_support']])}
<h2>"A then B" rules by lift</h2>{table(rules[['antecedent', 'consequent', 'support_count', 'confidence', 'lift']])}
<h2>After cart_add:4350284</h2>{table(after[['token', 'count', 'confidence', 'lift']])}
<h2>Model</h2><p>{html.escape(model_line)}</p>
"""
    out = out_dir / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def test_notebook(tmp_path):
    out = main(tmp_path)
    text = out.read_text()
    assert "Frequent action patterns" in text and "ROC-AUC" in text or "skipped" in text


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    print(main(target))
