#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The man pages and docs/configuration.md against the programs they describe.

  test-man.py SRCDIR EPHROOT EPHROOT-KBS

- every page formats without a groff warning (groff -man -ww -z);
- ephroot.conf(5) has exactly the keys `ephroot config` prints (plus secret.<name>), each with the
  default it prints; docs/configuration.md's table has the same keys and defaults;
- `ephroot config --get KEY` prints the dump's value of every key; an unknown key exits 2;
- ephroot(8) has every verb of `ephroot --help`, and exactly the long options the sources define;
  every verb answers `--help` (exit 0) and refuses an unknown option (exit 2);
- ephroot-kbs(8) has exactly the options of `ephroot-kbs --help`, the configuration keys of
  src/kbs/kbs-config.c and the policy keys of src/kbs/kbs-policy.c.
Prints "ok"/"FAIL" per check; exits 1 if any failed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

src, ephroot, kbs = sys.argv[1:4]
failed = 0


def check(ok, what, detail=""):
    global failed
    print(("ok   " if ok else "FAIL ") + what + (("\n     " + detail) if detail and not ok else ""))
    if not ok:
        failed += 1


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, EPHROOT_LOG_TARGET="stderr"))


def unescape(s):
    s = re.sub(r"\\f[BIRP]", "", s)
    return s.replace("\\-", "-").replace("\\e", "\\").replace("\\(bu", "*")


def roff_args(s):
    """A macro line's arguments as roff splits them: blanks separate, double quotes group ('"' only)."""
    return [m.group(1) if m.group(1) is not None else m.group(2) for m in re.finditer(r'"([^"]*)"|(\S+)', s)]


def roff_text(lines):
    """The text of roff lines: font macros' arguments joined as groff joins them, escapes removed."""
    out = []
    for line in lines:
        if line.startswith(".\\\""):
            continue
        m = re.match(r"^\.(B|I|BR|BI|IB|IR|RB|RI)\s+(.*)$", line)
        if m:
            args = roff_args(m.group(2))
            out.append(unescape((" " if m.group(1) in ("B", "I") else "").join(args)))
        elif line.startswith("."):
            continue
        else:
            out.append(unescape(line))
    return re.sub(r"\s+", " ", " ".join(out)).strip()


def entries(page, section=None):
    """(term, body text) of each .TP entry, in the named .SH sections (all when None)."""
    lines = open(os.path.join(src, "man", page)).read().splitlines()
    res, cur, sec = [], None, None
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            sec = line[3:].strip().strip('"')
            cur = None
            continue
        if section and sec not in section:
            continue
        if line.startswith(".TP"):
            cur = [lines[i + 1], []]
            res.append(cur)
        elif cur is not None and line is not cur[0]:
            cur[1].append(line)
    return [(term, roff_text(body)) for term, body in res]


def longopts(text):
    return set(re.findall(r"--([a-z][a-z-]*)", text))


# 1. groff formats every page without a warning.
pages = ["ephroot.8", "ephroot.conf.5", "ephroot-kbs.8"]
groff = shutil.which("groff")
if not groff:
    print("groff not found (package groff-base)")
    sys.exit(1 if os.environ.get("CI") == "true" else 77)
for p in pages:
    r = subprocess.run([groff, "-man", "-ww", "-z", os.path.join(src, "man", p)], capture_output=True, text=True)
    check(r.returncode == 0 and r.stderr == "", f"{p}: groff -man -ww formats it without a warning", r.stderr.strip())

# 2. ephroot.conf(5) and docs/configuration.md against `ephroot config`.
r = run(ephroot, "--config", "/dev/null", "config", "--cmdline-file=/dev/null")
check(r.returncode == 0, "ephroot config runs", r.stderr)
program = {}
for line in r.stdout.splitlines():
    m = re.match(r"^#?([a-z0-9-]+) = (.*)$", line)
    if m:
        program[m.group(1)] = "unset" if m.group(2).startswith("(unset") else m.group(2)
check(len(program) >= 30, f"ephroot config printed {len(program)} keys")
# secret.<name> is printed only when set: show the program takes it.
with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
    f.write("secret.db = default/app/db\n")
    f.flush()
    r = run(ephroot, "--config", f.name, "config", "--cmdline-file=/dev/null")
    check(r.returncode == 0 and "secret.db = default/app/db" in r.stdout, "ephroot config takes secret.<name>")
program["secret."] = "none"

def same_keys(where, documented):
    """WHERE documents exactly the keys the program knows."""
    missing = sorted(set(program) - set(documented))
    extra = sorted(set(documented) - set(program))
    check(not missing, f"{where} documents every key ephroot config prints", f"missing: {missing}")
    check(not extra, f"{where} documents no key the program does not know", f"unknown: {extra}")


man_keys, twice = {}, []
for term, body in entries("ephroot.conf.5"):
    m = re.match(r'^\.BI "([a-z0-9.-]+?)(?: = |\.")', term)
    if m:
        key = m.group(1) + ("." if term.startswith('.BI "secret."') else "")
        if key in man_keys:
            twice.append(key)
        man_keys[key] = body
check(not twice, "ephroot.conf(5): one entry per key", f"twice: {twice}")
same_keys("ephroot.conf(5)", man_keys)
bad = []
for key, default in program.items():
    body = man_keys.get(key)
    if body is not None and not re.search(r"Default: " + re.escape(default) + r"[ .]", body + " "):
        bad.append(f"{key} (program: {default})")
check(not bad, "ephroot.conf(5): each key's 'Default:' is what the program uses", f"differ: {bad}")
security = [k for k, b in man_keys.items() if b.startswith("[s]")]
check(len(security) >= 20, f"ephroot.conf(5) marks {len(security)} keys [s]")

docs = {}
for line in open(os.path.join(src, "docs", "configuration.md")):
    m = re.match(r"^\| `([a-z0-9.-]+)(?:<name>)?` \| ([^|]*) \|", line)
    if m:
        docs[m.group(1)] = m.group(2).strip()
same_keys("docs/configuration.md", docs)
bad = []
for key, default in program.items():
    d = docs.get(key)
    if d is None:
        continue
    if default in ("unset", "none"):
        ok = not d.startswith("`") or d == "`" + default + "`"
    else:
        ok = d == "`" + default + "`"
    if not ok:
        bad.append(f"{key} (docs: {d}, program: {default})")
check(not bad, "docs/configuration.md: each default is what the program uses", f"differ: {bad}")

# 2b. `ephroot config --get KEY` prints what the dump prints for every key (empty when unset), with
# any spelling the file accepts; an unknown key exits 2 naming it.
bad = []
for key, value in program.items():
    if key == "secret.":
        continue
    for spelling in (key, key.replace("-", "_").upper()):
        r = run(ephroot, "--config", "/dev/null", "config", "--cmdline-file", "/dev/null", "--get", spelling)
        want = "" if value == "unset" else value
        if r.returncode != 0 or r.stdout != want + "\n":
            bad.append(f"{spelling}: rc {r.returncode}, {r.stdout!r} (dump: {value!r})")
check(not bad, f"ephroot config --get prints the dump's value of each of {len(program) - 1} keys", f"differ: {bad}")
r = run(ephroot, "--config", "/dev/null", "config", "--cmdline-file", "/dev/null", "--get", "no-such-key")
check(r.returncode == 2 and "no-such-key" in r.stderr and r.stdout == "", "ephroot config --get an unknown key exits 2 naming it",
      f"rc {r.returncode}, {r.stderr!r}")


r = run(ephroot, "--help")
help_text = r.stdout
verbs = []
in_verbs = False
for line in help_text.splitlines():
    if line.startswith("Verbs:"):
        in_verbs = True
    elif in_verbs and line and not line.startswith(" "):
        in_verbs = False
    elif in_verbs:
        m = re.match(r"^  ([a-z][a-z-]*)( |$)", line)
        if m:
            verbs.append(m.group(1))
check(len(verbs) >= 8, f"ephroot --help lists {len(verbs)} verbs")
# Every verb answers --help with its own usage (exit 0), and refuses an unknown option (exit 2).
bad = []
for v in verbs:
    r = run(ephroot, v, "--help")
    if r.returncode != 0 or not r.stdout.startswith(f"Usage: ephroot [OPTIONS] {v} "):
        bad.append(f"{v} --help: rc {r.returncode}, {r.stdout[:60]!r} {r.stderr[:80]!r}")
    r = run(ephroot, v, "--no-such-option")
    if r.returncode != 2:
        bad.append(f"{v} --no-such-option: rc {r.returncode}")
check(not bad, "every verb answers --help with its usage (exit 0) and refuses an unknown option (exit 2)", f"{bad}")
man_verbs = [re.match(r"^\.B ([a-z-]+)", unescape(t)).group(1) for t, _ in entries("ephroot.8", {"VERBS"})]
check(set(verbs) == set(man_verbs), "ephroot(8) VERBS has every verb of --help and no other",
      f"--help: {sorted(verbs)}, man: {sorted(man_verbs)}")
source_opts = set()
verbs_dir = os.path.join(src, "src", "ephroot", "verbs")
for name in os.listdir(verbs_dir):
    if name.endswith(".c"):
        text = open(os.path.join(verbs_dir, name)).read()
        source_opts |= set(re.findall(r'\{ "([a-z][a-z-]*)", *(?:no|required|optional)_argument', text))
check(len(source_opts) >= 20, f"src/ephroot/verbs/ defines {len(source_opts)} long options")
man8 = unescape(open(os.path.join(src, "man", "ephroot.8")).read())
check(not source_opts - longopts(man8), "ephroot(8) has every long option the sources define",
      f"missing: {sorted(source_opts - longopts(man8))}")
check(not longopts(man8) - source_opts, "ephroot(8) names no option the sources do not define",
      f"unknown: {sorted(longopts(man8) - source_opts)}")
check(not longopts(help_text) - source_opts, "ephroot --help names no option the sources do not define",
      f"unknown: {sorted(longopts(help_text) - source_opts)}")

# 4. ephroot-kbs(8).
r = run(kbs, "--help")
kbs_help = r.stdout + r.stderr
kman = ""
sec = None
for line in open(os.path.join(src, "man", "ephroot-kbs.8")):
    if line.startswith(".SH"):
        sec = line[3:].strip()
    elif sec in ("SYNOPSIS", "OPTIONS"):
        kman += unescape(line)
check(longopts(kbs_help) and longopts(kbs_help) == longopts(kman), "ephroot-kbs(8) SYNOPSIS and OPTIONS: exactly the options of --help",
      f"--help: {sorted(longopts(kbs_help))}, man: {sorted(longopts(kman))}")


def c_keys(path, first):
    text = open(os.path.join(src, path)).read()
    m = re.search(r'keys\[\] = \{ "' + first + r'"(.*?)NULL \}', text, re.S)
    return {first} | set(re.findall(r'"([a-z_]+)"', m.group(1))) if m else set()


def man_terms(sections):
    terms = set()
    for t, _ in entries("ephroot-kbs.8", sections):
        if re.match(r"^\.BR? ", t):
            terms |= {w for w in re.findall(r"[a-z_]+", re.sub(r'"[^"]*"', " ", t[3:]))}
    return terms


config_keys = c_keys("src/kbs/kbs-config.c", "address")
policy_keys = c_keys("src/kbs/kbs-policy.c", "name") | c_keys("src/kbs/kbs-policy.c", "amd_roots")
check(len(config_keys) >= 13, f"kbs-config.c defines {len(config_keys)} configuration keys")
check(config_keys == man_terms({"CONFIGURATION"}), "ephroot-kbs(8) CONFIGURATION: exactly the keys kbs-config.c takes",
      f"source: {sorted(config_keys)}, man: {sorted(man_terms({'CONFIGURATION'}))}")
check(policy_keys == man_terms({"POLICY"}), "ephroot-kbs(8) POLICY: exactly the keys kbs-policy.c takes",
      f"source: {sorted(policy_keys)}, man: {sorted(man_terms({'POLICY'}))}")

print(f"{failed} failed")
sys.exit(1 if failed else 0)
