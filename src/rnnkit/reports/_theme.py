"""The report's stylesheet, inlined into every HTML file so it opens from anywhere."""

CSS = """
:root {
  --ink: #1d2430; --muted: #5b6575; --line: #dde2ea; --stripe: #f5f7fa; --accent: #2158a8;
  --best: #e4f4e6; --best-ink: #17692b; --card: #f7f9fc;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
        "DejaVu Sans", sans-serif;
}
main { max-width: 1180px; margin: 0 auto; padding: 2.2rem 1.5rem 3rem; }
header { border-bottom: 2px solid var(--ink); padding-bottom: .8rem; margin-bottom: 1.2rem; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0; letter-spacing: -.01em; }
.subtitle { color: var(--muted); margin: .35rem 0 0; }
h2 {
  font-size: 1.2rem; margin: 2.2rem 0 .8rem; padding-bottom: .3rem;
  border-bottom: 1px solid var(--line);
}
p { margin: .6rem 0; max-width: 75ch; }
nav.toc { font-size: .9rem; color: var(--muted); }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 1.1rem;
  white-space: nowrap; }
nav.toc a:hover { text-decoration: underline; }
.summary {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr));
  gap: .75rem; margin: 1rem 0;
}
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: .7rem .9rem; }
.card .label { font-size: .78rem; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
.card .value { font-size: 1.35rem; font-weight: 600; font-variant-numeric: tabular-nums;
  overflow-wrap: anywhere; }
.card .value.text { font-size: 1.02rem; line-height: 1.35; padding-top: .2rem; }
.table-wrap { overflow-x: auto; margin: .8rem 0; }
table.data { border-collapse: collapse; font-size: .9rem; min-width: 50%; }
table.data th, table.data td { padding: .36rem .7rem; text-align: left; vertical-align: top;
  white-space: nowrap; }
table.data thead th {
  border-bottom: 2px solid var(--ink); font-weight: 600; white-space: nowrap;
  background: #fff; position: sticky; top: 0;
}
table.data tbody tr:nth-child(even) { background: var(--stripe); }
table.data tbody tr:hover { background: #eaf0f8; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data tr.group-start td { border-top: 1px solid #b8c0cc; }
table.data tbody tr:first-child td { border-top: none; }
table.data tr.best { background: var(--best); }
table.data tr.best td { font-weight: 600; color: var(--best-ink); }
table.data tr.best td:first-child::before { content: "\\2605\\00a0"; }
table.kv td:first-child { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas,
  "DejaVu Sans Mono", monospace; font-size: .85rem; color: var(--muted); }
table.kv td { white-space: normal; overflow-wrap: anywhere; }
table.kv td.num, table.kv th.num { text-align: left; }
.caption { font-size: .85rem; color: var(--muted); margin: .3rem 0 0; }
figure { margin: 1.2rem 0 1.6rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
  border-radius: 6px; }
figcaption { font-size: .88rem; color: var(--muted); margin-top: .45rem; }
figcaption b { color: var(--ink); }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: .7rem .9rem; margin: .3rem 0 1.2rem; white-space: pre-wrap; overflow-wrap: anywhere;
  font: .85rem/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
details { margin: .8rem 0; }
details > summary { cursor: pointer; color: var(--accent); font-weight: 600; }
footer { margin-top: 3rem; padding-top: .8rem; border-top: 1px solid var(--line);
  font-size: .8rem; color: var(--muted); }
@media print { .table-wrap { overflow: visible; } table.data thead th { position: static; } }
"""
