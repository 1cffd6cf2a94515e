#!/usr/bin/env python3
# test-po.py: checks the translation setup in po/: that POTFILES.in names
# every file with translatable strings (a file missing there silently stays
# English in every language), that every translation listed in LINGUAS
# compiles under msgfmt --check with its mnemonics intact, that no .po file
# is left out of LINGUAS, and that translated desktop-file keyword lists
# keep the semicolons the desktop file format needs.
#
# Standard library and gettext's msgfmt only; prints TAP for meson.
#
# Copyright 2026 The Casement authors
# SPDX-License-Identifier: GPL-3.0-or-later

import glob
import os
import re
import shutil
import subprocess
import sys

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO_DIR = os.path.join(SRCDIR, 'po')

# The gettext keywords of glib's i18n preset, as written in C.
C_MARKER = re.compile(r'(?<![A-Za-z0-9_])'
                      r'(?:_|N_|C_|NC_|Q_|gettext|ngettext|pgettext|'
                      r'g_dgettext|g_dngettext|g_dcgettext|g_dpgettext|g_dpgettext2)'
                      r'\s*\(')
C_COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
UI_MARKER = re.compile(r'translatable\s*=\s*"(?:yes|true|1)"')
GSCHEMA_MARKER = re.compile(r'<(?:summary|description)\b')
DESKTOP_MARKER = re.compile(r'^(?:Name|GenericName|Comment|Keywords|X-GNOME-FullName)\s*=',
                            re.M)
METAINFO_MARKER = re.compile(r'<(?:name|summary|p|li|caption|developer_name)\b')

results = []


def report(ok, name, diagnostics=()):
    results.append(ok)
    print('%s %d - %s' % ('ok' if ok else 'not ok', len(results), name))
    for line in diagnostics:
        print('# ' + line)


def skip(name, reason):
    results.append(True)
    print('ok %d - %s # SKIP %s' % (len(results), name, reason))


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def has_marker(relpath):
    text = read(os.path.join(SRCDIR, relpath))
    if relpath.endswith(('.c', '.h')):
        return C_MARKER.search(C_COMMENT.sub('', text)) is not None
    if relpath.endswith('.ui'):
        return UI_MARKER.search(text) is not None
    if relpath.endswith('.gschema.xml'):
        return GSCHEMA_MARKER.search(text) is not None
    if relpath.endswith('.desktop.in'):
        return DESKTOP_MARKER.search(text) is not None
    if relpath.endswith(('.metainfo.xml.in', '.appdata.xml.in')):
        return METAINFO_MARKER.search(text) is not None
    return False


def candidate_files():
    patterns = ['src/**/*.c', 'src/**/*.h', 'ui/**/*.ui',
                'data/**/*.in', 'data/**/*.gschema.xml']
    found = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(SRCDIR, pattern), recursive=True):
            found.add(os.path.relpath(path, SRCDIR))
    return sorted(found)


def potfiles():
    entries = []
    for line in read(os.path.join(PO_DIR, 'POTFILES.in')).splitlines():
        line = line.strip()
        if line and not line.startswith('#'):
            entries.append(line)
    return entries


def linguas():
    languages = []
    for line in read(os.path.join(PO_DIR, 'LINGUAS')).splitlines():
        languages.extend(line.split('#', 1)[0].split())
    return languages


def unquote(token):
    # PO strings are C string literals.
    return bytes(token[1:-1], 'utf-8').decode('unicode_escape').encode('latin-1').decode('utf-8')


def po_entries(path):
    """(msgid, [msgstr…], fuzzy) of each live entry of a .po file."""
    entries = []
    msgid = None
    msgstrs = []
    fuzzy = False
    field = None

    def flush():
        if msgid is not None:
            entries.append((msgid, msgstrs, fuzzy))

    for line in read(path).splitlines() + ['']:
        line = line.strip()
        if not line:
            flush()
            msgid, msgstrs, fuzzy, field = None, [], False, None
        elif line.startswith('#,'):
            fuzzy = 'fuzzy' in line
        elif line.startswith('#'):
            continue
        elif line.startswith('msgid '):
            msgid = unquote(line[6:])
            field = 'msgid'
        elif line.startswith('msgstr'):
            msgstrs.append(unquote(line.split(' ', 1)[1]))
            field = 'msgstr'
        elif line.startswith('"'):
            if field == 'msgid':
                msgid += unquote(line)
            elif field == 'msgstr':
                msgstrs[-1] += unquote(line)
        else:
            field = None
    return entries


def test_potfiles_exist():
    missing = [p for p in potfiles() if not os.path.isfile(os.path.join(SRCDIR, p))]
    report(not missing, 'every file in POTFILES.in exists',
           ['POTFILES.in names %s, which does not exist; remove the line' % p
            for p in missing])


def test_potfiles_complete():
    listed = set(potfiles())
    marked = [p for p in candidate_files() if has_marker(p)]
    unlisted = [p for p in marked if p not in listed]
    diagnostics = ['%s has translatable strings but is not in po/POTFILES.in; add it' % p
                   for p in unlisted]
    # A scanner that finds nothing would pass vacuously.
    for kind in ('.c', '.ui', '.desktop.in', '.gschema.xml'):
        if not any(p.endswith(kind) for p in marked):
            diagnostics.append('found no %s file with translatable strings: the scan is broken'
                               % kind)
    report(not diagnostics, 'POTFILES.in lists every file with translatable strings',
           diagnostics)


def test_linguas_complete():
    languages = set(linguas())
    stray = [os.path.basename(p)[:-3] for p in sorted(glob.glob(os.path.join(PO_DIR, '*.po')))
             if os.path.basename(p)[:-3] not in languages]
    report(not stray, 'every .po file is listed in LINGUAS',
           ['po/%s.po is not in po/LINGUAS, so it is never built or installed; add %s'
            % (lang, lang) for lang in stray])


def test_msgfmt(lang, msgfmt):
    name = '%s.po passes msgfmt --check' % lang
    path = os.path.join(PO_DIR, lang + '.po')
    if not os.path.isfile(path):
        report(False, name, ['po/LINGUAS lists %s but po/%s.po does not exist' % (lang, lang)])
        return
    if msgfmt is None:
        skip(name, 'msgfmt (gettext) is not installed')
        return
    proc = subprocess.run([msgfmt, '--check', '--check-accelerators=_',
                           '--output-file=' + os.devnull, path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    report(proc.returncode == 0, name, proc.stdout.splitlines())


def test_keywords(lang):
    path = os.path.join(PO_DIR, lang + '.po')
    if not os.path.isfile(path):
        return
    broken = []
    for msgid, msgstrs, fuzzy in po_entries(path):
        if fuzzy or not msgid.endswith(';'):
            continue
        for msgstr in msgstrs:
            if msgstr and not msgstr.endswith(';'):
                broken.append('“%s” is translated as “%s”, which lacks the closing semicolon'
                              % (msgid, msgstr))
    report(not broken, '%s.po keeps semicolon-separated lists' % lang, broken)


def main():
    msgfmt = shutil.which('msgfmt')
    test_potfiles_exist()
    test_potfiles_complete()
    test_linguas_complete()
    for lang in linguas():
        test_msgfmt(lang, msgfmt)
        test_keywords(lang)
    print('1..%d' % len(results))
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
