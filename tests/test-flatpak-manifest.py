#!/usr/bin/env python3
# test-flatpak-manifest.py: checks flatpak/io.github.casement.Casement.json
# as far as a machine without the GNOME runtime and without network can:
# the manifest's shape, its pinned sources, the sandbox permissions, that the
# app id agrees with the desktop file, metainfo and meson, that flatpak-builder
# understands every property, and that Casement's own host probe picks the
# OVMF firmware the manifest installs.
#
# Standard library only; prints TAP for meson.
#
# Copyright 2026 The Casement authors
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

SRCDIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLATPAK_DIR = os.path.join(SRCDIR, 'flatpak')
MANIFEST = os.path.join(FLATPAK_DIR, 'io.github.casement.Casement.json')

# GNOME 43 is the first runtime with GTK 4.8 and libadwaita 1.2, the API
# level meson.build pins.
GNOME_RUNTIME_FLOOR = 43

# What each module builds against (from its build system), and what the app
# runs at run time. A module nothing needs is dead weight in the bundle.
BUILD_DEPENDS = {
    'usbredir': ['libusb'],
    'spice': ['spice-protocol'],
    'qemu': ['python3-distlib', 'libslirp', 'spice', 'spice-protocol', 'usbredir'],
    'swtpm': ['libtpms'],
    'spice-gtk': ['python3-pyparsing', 'spice-protocol', 'usbredir', 'libusb'],
    'casement': ['libosinfo', 'spice-gtk'],
}
RUN_DEPENDS = {
    'casement': ['qemu', 'swtpm', 'virtiofsd', 'ovmf', 'osinfo-db'],
}
APP_MODULE = 'casement'

# pkg-config names from meson.build: in the GNOME runtime, or built here.
RUNTIME_PKGS = {'glib-2.0', 'gio-2.0', 'gio-unix-2.0', 'json-glib-1.0',
                'gtk4', 'libadwaita-1', 'epoxy'}
MODULE_PKGS = {'libosinfo-1.0': 'libosinfo',
               'spice-client-glib-2.0': 'spice-gtk'}

# Sandbox holes a VM manager has no business with.
FORBIDDEN_FINISH_ARGS = [
    re.compile(r'--filesystem=(host|host-os|host-etc|home)(:.*)?$'),
    re.compile(r'--filesystem=~/?(:.*)?$'),
    re.compile(r'--filesystem=/(:.*)?$'),
    re.compile(r'--device=all$'),
    re.compile(r'--socket=(session-bus|system-bus|x11)$'),
    re.compile(r'--talk-name=org\.freedesktop\.Flatpak$'),
    re.compile(r'--(talk|own)-name=.*\*'),
]
REQUIRED_FINISH_ARGS = [
    '--device=kvm',
    '--share=network',
    '--share=ipc',
    '--socket=wayland',
    '--socket=fallback-x11',
    '--socket=pulseaudio',
    '--talk-name=org.kde.StatusNotifierWatcher',
]

SHA256 = re.compile(r'^[0-9a-f]{64}$')
COMMIT = re.compile(r'^[0-9a-f]{40}$')


class Skip(Exception):
    pass


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def load_manifest():
    with open(MANIFEST, encoding='utf-8') as f:
        return json.load(f)


def walk_modules(modules):
    """Modules in build order: nested ones before the module holding them."""
    for module in modules:
        assert isinstance(module, dict), \
            'module files are not used here, so every module is inline: %r' % (module,)
        yield from walk_modules(module.get('modules', []))
        yield module


def module_by_name(manifest, name):
    for module in walk_modules(manifest['modules']):
        if module['name'] == name:
            return module
    raise AssertionError('no module named %s' % name)


def meson_app_id():
    match = re.search(r"^app_id = '([^']+)'", read(os.path.join(SRCDIR, 'meson.build')), re.M)
    assert match, 'meson.build sets no app_id'
    return match.group(1)


def install_targets(module, dest_dir):
    """Files a simple module's `install -t DEST_DIR a b c` commands install, by basename."""
    names = []
    for command in module.get('build-commands', []):
        words = command.split()
        if words[:1] == ['install'] and '-t' in words and \
           words[words.index('-t') + 1] == dest_dir:
            rest = words[words.index('-t') + 2:]
            names += [os.path.basename(w) for w in rest if not w.startswith('-')]
    return names


# The tests

def test_parses_with_required_keys():
    manifest = load_manifest()
    for key in ('id', 'runtime', 'runtime-version', 'sdk', 'command', 'finish-args', 'modules'):
        assert key in manifest, 'missing key %s' % key
    assert manifest['command'] == 'casement', manifest['command']
    assert manifest['runtime'] == 'org.gnome.Platform', manifest['runtime']
    assert manifest['sdk'] == 'org.gnome.Sdk', manifest['sdk']
    version = manifest['runtime-version']
    assert version.isdigit() and int(version) >= GNOME_RUNTIME_FLOOR, \
        'runtime-version %s is older than GNOME %d (GTK 4.8, libadwaita 1.2)' % (version, GNOME_RUNTIME_FLOOR)


def test_app_id_agrees_everywhere():
    app_id = load_manifest()['id']
    assert app_id == meson_app_id(), 'manifest id %s, meson app_id %s' % (app_id, meson_app_id())

    desktop = read(os.path.join(SRCDIR, 'data', app_id + '.desktop.in'))
    icon = re.search(r'^Icon=(.*)$', desktop, re.M)
    assert icon and icon.group(1) == app_id, 'desktop file Icon= is not %s' % app_id
    exec_line = re.search(r'^Exec=(\S+)', desktop, re.M)
    assert exec_line, 'the desktop file has no Exec='
    assert exec_line.group(1) == load_manifest()['command'], \
        'desktop file Exec= runs %s, the manifest command is %s' % (exec_line.group(1), load_manifest()['command'])

    metainfo = ElementTree.parse(os.path.join(SRCDIR, 'data', app_id + '.metainfo.xml.in')).getroot()
    assert metainfo.findtext('id') == app_id, 'metainfo <id> is %s' % metainfo.findtext('id')
    launchable = metainfo.find("launchable[@type='desktop-id']")
    assert launchable is not None and launchable.text == app_id + '.desktop', 'metainfo launchable'

    app_meson = read(os.path.join(SRCDIR, 'src', 'app', 'meson.build'))
    assert re.search(r"executable\('%s'" % re.escape(load_manifest()['command']), app_meson), \
        'src/app/meson.build builds no executable named after the manifest command'


def test_module_dependencies_exist_and_come_first():
    manifest = load_manifest()
    order = [m['name'] for m in walk_modules(manifest['modules'])]
    assert len(order) == len(set(order)), 'duplicate module names: %s' % order
    assert order[-1] == APP_MODULE, 'the app is not the last module built'

    needed = set()
    for table in (BUILD_DEPENDS, RUN_DEPENDS):
        for module, deps in table.items():
            assert module in order, 'module %s is missing' % module
            for dep in deps:
                assert dep in order, '%s needs module %s, which the manifest lacks' % (module, dep)
                assert order.index(dep) < order.index(module), '%s is built after %s, which needs it' % (dep, module)
                needed.add(dep)
    unused = set(order) - needed - {APP_MODULE}
    assert not unused, 'modules nothing needs: %s' % sorted(unused)

    # meson.build's dependencies are what the app really links.
    meson = read(os.path.join(SRCDIR, 'meson.build'))
    for pkg in re.findall(r"dependency\('([^']+)'", meson):
        if pkg in RUNTIME_PKGS:
            continue
        assert pkg in MODULE_PKGS, 'meson.build needs %s: neither the runtime nor a module provides it' % pkg
        assert MODULE_PKGS[pkg] in BUILD_DEPENDS[APP_MODULE], '%s is not a build dependency of the app' % MODULE_PKGS[pkg]


def test_sources_are_pinned():
    manifest = load_manifest()
    for module in walk_modules(manifest['modules']):
        sources = module.get('sources', [])
        assert sources, 'module %s has no sources' % module['name']
        for source in sources:
            kind = source['type']
            where = '%s: %s' % (module['name'], source.get('url', source.get('path')))
            if kind in ('archive', 'file') and 'url' in source:
                assert source['url'].startswith('https://'), where + ' is not https'
                assert SHA256.match(source.get('sha256', '')), where + ' has no sha256'
                assert source['sha256'] != '0' * 64, where + ' has a placeholder sha256'
                for mirror in source.get('mirror-urls', []):
                    assert mirror.startswith('https://'), where + ' mirror is not https'
            elif kind == 'git':
                assert source['url'].startswith('https://'), where + ' is not https'
                assert 'branch' not in source, where + ' follows a branch'
                assert 'tag' in source or 'commit' in source, where + ' pins neither tag nor commit'
                if 'commit' in source:
                    assert COMMIT.match(source['commit']), where + ' commit is not a full hash'
            elif kind in ('dir', 'file', 'patch'):
                path = os.path.join(FLATPAK_DIR, source['path'])
                assert os.path.exists(path), where + ' does not exist'
            elif kind == 'shell':
                assert source['commands'], where + ' runs nothing'
            else:
                raise AssertionError('%s: unexpected source type %s' % (where, kind))


def test_finish_args_are_minimal():
    manifest = load_manifest()
    args = manifest['finish-args']
    assert len(args) == len(set(args)), 'duplicate finish-args'
    for arg in args:
        for pattern in FORBIDDEN_FINISH_ARGS:
            assert not pattern.match(arg), 'finish-arg %s opens the sandbox too far' % arg
    for arg in REQUIRED_FINISH_ARGS:
        assert arg in args, 'finish-args lack %s' % arg

    # Flatpak's policy cannot express the SNI name's pid and counter as a
    # wildcard; inside the sandbox the app is pid 2 and exports once.
    tray = read(os.path.join(SRCDIR, 'src', 'app', 'casement-tray.c'))
    assert '"org.kde.StatusNotifierItem-%d-%u"' in tray, 'the tray no longer owns org.kde.StatusNotifierItem-<pid>-<n>'
    for arg in args:
        if arg.startswith('--own-name='):
            name = arg[len('--own-name='):]
            assert name == 'org.kde.StatusNotifierItem-2-1' or name.startswith(manifest['id'] + '.'), \
                'owns an unexpected bus name %s' % name

    # The firmware override must point where the ovmf module installs its
    # descriptors, and the host probe must still read that variable.
    env = dict(a[len('--env='):].split('=', 1) for a in args if a.startswith('--env='))
    assert 'CASEMENT_FIRMWARE_DIR' in env, 'CASEMENT_FIRMWARE_DIR is not set'
    assert 'CASEMENT_FIRMWARE_DIR' in read(os.path.join(SRCDIR, 'src', 'core', 'casement-host.c')), \
        'casement-host.c no longer reads CASEMENT_FIRMWARE_DIR'
    assert env['CASEMENT_FIRMWARE_DIR'] == '/app/share/qemu/firmware', env['CASEMENT_FIRMWARE_DIR']
    descriptors = install_targets(module_by_name(manifest, 'ovmf'), '${FLATPAK_DEST}/share/qemu/firmware')
    assert descriptors, 'the ovmf module installs no firmware descriptors'


def test_qemu_builds_only_what_casement_uses():
    opts = module_by_name(load_manifest(), 'qemu')['config-opts']
    for opt in ('--target-list=x86_64-softmmu', '--enable-kvm', '--enable-tools', '--enable-tpm',
                '--enable-spice', '--enable-slirp', '--enable-usb-redir', '--enable-vhost-user',
                '--disable-gtk', '--disable-sdl', '--disable-virtfs', '--disable-docs'):
        assert opt in opts, 'qemu config-opts lack %s' % opt
    drivers = [o for o in opts if o.startswith('--audio-drv-list=')]
    assert drivers and set(drivers[0].split('=', 1)[1].split(',')) == {'pipewire', 'pa'}, drivers


def test_flatpak_builder_understands_every_property():
    builder = shutil.which('flatpak-builder')
    if builder is None:
        raise Skip('flatpak-builder is not installed (apt-get install flatpak-builder)')
    # It makes its state folder in the working directory: keep that out of the tree.
    with tempfile.TemporaryDirectory(prefix='casement-flatpak-') as tmp:
        result = subprocess.run([builder, '--show-manifest', MANIFEST], cwd=tmp,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, 'flatpak-builder --show-manifest failed: ' + result.stderr
    # It warns about and drops any property it does not know.
    assert 'WARNING' not in result.stderr, result.stderr.strip()
    assert json.loads(result.stdout) == load_manifest(), 'flatpak-builder read the manifest differently'


def test_ovmf_pin_matches_debian_index():
    source = module_by_name(load_manifest(), 'ovmf')['sources'][0]
    match = re.search(r'/ovmf_([^_]+)_all\.deb$', source['url'])
    assert match, 'the ovmf source is not a Debian ovmf package: ' + source['url']
    version = match.group(1)
    if shutil.which('apt-cache') is None:
        raise Skip('apt-cache is not installed')
    result = subprocess.run(['apt-cache', 'show', 'ovmf=' + version], capture_output=True, text=True, timeout=60)
    fields = dict(re.findall(r'^(SHA256|Filename): (\S+)$', result.stdout, re.M))
    if result.returncode != 0 or 'SHA256' not in fields:
        raise Skip('the apt lists here do not know ovmf %s' % version)
    assert source['url'].endswith('/' + fields['Filename']), (source['url'], fields['Filename'])
    assert fields['SHA256'] == source['sha256'], \
        'Debian records sha256 %s for ovmf %s' % (fields['SHA256'], version)


def test_host_probe_picks_the_shipped_firmware():
    """Lays out what the ovmf module installs, with this machine's OVMF files
    from the same Debian package, and asks casementctl which firmware a
    Secure Boot VM and a plain VM get."""
    casementctl = os.environ.get('CASEMENTCTL')
    if not casementctl or not os.access(casementctl, os.X_OK):
        raise Skip('CASEMENTCTL does not name the built casementctl')
    manifest = load_manifest()
    module = module_by_name(manifest, 'ovmf')
    fd_files = install_targets(module, '${FLATPAK_DEST}/share/OVMF')
    descriptors = install_targets(module, '${FLATPAK_DEST}/share/qemu/firmware')
    missing = [f for f in fd_files if not os.path.exists(os.path.join('/usr/share/OVMF', f))]
    if missing:
        raise Skip('this machine lacks /usr/share/OVMF/%s (apt-get install ovmf)' % missing[0])

    shipped = {os.path.basename(s['path']) for s in module['sources'] if 'path' in s}
    assert set(descriptors) == shipped, 'descriptors installed %s, shipped %s' % (descriptors, shipped)

    with tempfile.TemporaryDirectory(prefix='casement-flatpak-') as tmp:
        app = os.path.join(tmp, 'app')
        os.makedirs(os.path.join(app, 'share', 'OVMF'))
        firmware_dir = os.path.join(tmp, 'firmware')
        os.makedirs(firmware_dir)
        for name in fd_files:
            os.symlink(os.path.join('/usr/share/OVMF', name), os.path.join(app, 'share', 'OVMF', name))
        for name in descriptors:
            text = read(os.path.join(FLATPAK_DIR, 'firmware', name))
            with open(os.path.join(firmware_dir, name), 'w', encoding='utf-8') as f:
                f.write(text.replace('"/app/', '"%s/' % app))

        env = dict(os.environ, CASEMENT_FIRMWARE_DIR=firmware_dir)
        result = subprocess.run([casementctl, 'host', '--json'], env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, 'casementctl host --json failed: ' + result.stderr
        firmware = json.loads(result.stdout)['firmware']

        ovmf = os.path.join(app, 'share', 'OVMF')
        assert firmware['secure-boot'] == {'code': os.path.join(ovmf, 'OVMF_CODE_4M.secboot.fd'),
                                           'vars': os.path.join(ovmf, 'OVMF_VARS_4M.ms.fd')}, firmware
        assert firmware['plain'] == {'code': os.path.join(ovmf, 'OVMF_CODE_4M.fd'),
                                     'vars': os.path.join(ovmf, 'OVMF_VARS_4M.fd')}, firmware


TESTS = [
    test_parses_with_required_keys,
    test_app_id_agrees_everywhere,
    test_module_dependencies_exist_and_come_first,
    test_sources_are_pinned,
    test_finish_args_are_minimal,
    test_qemu_builds_only_what_casement_uses,
    test_flatpak_builder_understands_every_property,
    test_ovmf_pin_matches_debian_index,
    test_host_probe_picks_the_shipped_firmware,
]


def main():
    print('TAP version 13')
    # The checks are assert statements, which -O would strip.
    if sys.flags.optimize:
        print('Bail out! Python runs with assertions off (unset PYTHONOPTIMIZE)')
        return 1
    print('1..%d' % len(TESTS))
    failed = 0
    for number, test in enumerate(TESTS, 1):
        name = test.__name__[len('test_'):]
        try:
            test()
        except Skip as skip:
            print('ok %d %s # SKIP %s' % (number, name, skip))
        except Exception as error:
            failed += 1
            print('not ok %d %s' % (number, name))
            for line in ('%s: %s' % (type(error).__name__, error)).splitlines():
                print('# ' + line)
        else:
            print('ok %d %s' % (number, name))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
