/* test-host.c
 *
 * Copyright 2026 The Casement authors
 *
 * This program is free software: you can redistribute it and/or modify
 * it under the terms of the GNU General Public License as published by
 * the Free Software Foundation, either version 3 of the License, or
 * (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful,
 * but WITHOUT ANY WARRANTY; without even the implied warranty of
 * MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
 * GNU General Public License for more details.
 *
 * You should have received a copy of the GNU General Public License
 * along with this program.  If not, see <http://www.gnu.org/licenses/>.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "casement-host.h"
#include "casement-host-private.h"

static char *
read_fixture (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "host", name, NULL);
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return contents;
}

static CasementHost *
load_host (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *file = g_strconcat (name, ".json", NULL);
  g_autofree char *json = read_fixture (file);
  CasementHost *host;

  host = casement_host_new_from_json (json, &error);
  g_assert_no_error (error);
  g_assert_nonnull (host);

  return host;
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("casement-test-host-XXXXXX", &error);

  g_assert_no_error (error);

  return dir;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_assert_cmpint (g_unlink (child), ==, 0);
        }
    }

  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
write_script (const char *path,
              const char *body)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strconcat ("#!/bin/sh\n", body, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

/* Tests that set the probe's environment variables run in a child of
 * their own, where setenv() comes before any thread exists. */
static gboolean
in_child (void)
{
  if (g_test_subprocess ())
    return TRUE;

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();

  return FALSE;
}

static gboolean
cpuinfo_has_virtualization (void)
{
  g_autofree char *cpuinfo = NULL;
  g_auto(GStrv) flags = NULL;

  g_assert_true (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL));
  _casement_host_parse_cpuinfo (cpuinfo, NULL, &flags, NULL);

  return g_strv_contains ((const char * const *)flags, "vmx") ||
         g_strv_contains ((const char * const *)flags, "svm");
}

/* Parsers on captured output */

static void
test_parse_qemu_version (void)
{
  g_autofree char *v72 = read_fixture ("qemu-7.2-version.txt");
  g_autofree char *v90 = read_fixture ("qemu-9.0-version.txt");
  guint major = 0, minor = 0, micro = 0;

  g_assert_true (_casement_host_parse_qemu_version (v72, &major, &minor, &micro));
  g_assert_cmpuint (major, ==, 7);
  g_assert_cmpuint (minor, ==, 2);
  g_assert_cmpuint (micro, ==, 22);

  g_assert_true (_casement_host_parse_qemu_version (v90, &major, &minor, &micro));
  g_assert_cmpuint (major, ==, 9);
  g_assert_cmpuint (minor, ==, 0);
  g_assert_cmpuint (micro, ==, 2);

  /* Old releases had two parts. */
  g_assert_true (_casement_host_parse_qemu_version ("QEMU emulator version 2.11\n", &major, &minor, &micro));
  g_assert_cmpuint (major, ==, 2);
  g_assert_cmpuint (minor, ==, 11);
  g_assert_cmpuint (micro, ==, 0);

  g_assert_false (_casement_host_parse_qemu_version ("qemu: unknown option\n", &major, &minor, &micro));
  g_assert_false (_casement_host_parse_qemu_version ("QEMU emulator version x.y\n", &major, &minor, &micro));
}

static void
test_parse_cpuinfo (void)
{
  struct {
    const char        *fixture;
    CasementCpuVendor  vendor;
    guint              threads;
    const char        *has[3];
    const char        *lacks[3];
  } cases[] = {
    /* This machine: AMD EPYC as a guest, without svm. */
    { "cpuinfo-amd-epyc-nested.txt", CASEMENT_CPU_VENDOR_AMD, 2,
      { "avx2", "hypervisor", "topoext" }, { "svm", "vmx", "avic" } },
    /* The "vmx flags" line must not leak into the flags. */
    { "cpuinfo-intel-vmx.txt", CASEMENT_CPU_VENDOR_INTEL, 8,
      { "vmx", "ept", "avx512f" }, { "svm", "ept_x_only", "posted_intr" } },
    { "cpuinfo-amd-svm-avic.txt", CASEMENT_CPU_VENDOR_AMD, 16,
      { "svm", "avic", "npt" }, { "vmx", "hypervisor", "ts" } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = read_fixture (cases[i].fixture);
      g_auto(GStrv) flags = NULL;
      CasementCpuVendor vendor = CASEMENT_CPU_VENDOR_UNKNOWN;
      guint threads = 0;

      _casement_host_parse_cpuinfo (text, &vendor, &flags, &threads);
      g_assert_cmpint (vendor, ==, cases[i].vendor);
      g_assert_cmpuint (threads, ==, cases[i].threads);
      for (guint j = 0; j < G_N_ELEMENTS (cases[i].has); j++)
        {
          g_assert_true (g_strv_contains ((const char * const *)flags, cases[i].has[j]));
          g_assert_false (g_strv_contains ((const char * const *)flags, cases[i].lacks[j]));
        }
      for (guint j = 1; flags[j] != NULL; j++)
        g_assert_cmpstr (flags[j - 1], <, flags[j]);
    }

  {
    g_auto(GStrv) flags = NULL;
    CasementCpuVendor vendor = CASEMENT_CPU_VENDOR_AMD;
    guint threads = 7;

    _casement_host_parse_cpuinfo ("processor\t: 0\nvendor_id\t: CentaurHauls\n", &vendor, &flags, &threads);
    g_assert_cmpint (vendor, ==, CASEMENT_CPU_VENDOR_UNKNOWN);
    g_assert_cmpuint (threads, ==, 1);
    g_assert_cmpuint (g_strv_length (flags), ==, 0);
  }
}

static void
test_parse_meminfo (void)
{
  g_autofree char *text = read_fixture ("meminfo.txt");

  /* MemTotal: 24684096 kB */
  g_assert_cmpuint (_casement_host_parse_meminfo (text), ==, 24105);
  g_assert_cmpuint (_casement_host_parse_meminfo ("MemFree: 100 kB\n"), ==, 0);
}

static void
test_parse_device_help (void)
{
  g_autofree char *text = read_fixture ("qemu-7.2-device-help.txt");
  g_auto(GStrv) devices = _casement_host_parse_device_help (text);
  const char *wanted[] = {
    "qxl-vga", "qemu-xhci", "usb-tablet", "usb-redir", "virtio-tablet-pci", "vhost-user-fs-pci",
    "tpm-crb", "ide-cd", "virtio-blk-pci", "virtio-balloon-pci", "ich9-intel-hda", "hda-output",
    "virtio-serial-pci", "virtserialport",
  };

  g_assert_cmpuint (g_strv_length (devices), ==, 388);
  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    g_assert_true (g_strv_contains ((const char * const *)devices, wanted[i]));

  /* Aliases and category headings are not devices. */
  g_assert_false (g_strv_contains ((const char * const *)devices, "virtio-blk"));
  g_assert_false (g_strv_contains ((const char * const *)devices, "Storage devices:"));
}

static void
test_parse_audiodev_help (void)
{
  g_autofree char *v72 = read_fixture ("qemu-7.2-audiodev-help.txt");
  g_autofree char *v90 = read_fixture ("qemu-9.0-audiodev-help.txt");
  g_auto(GStrv) drivers72 = _casement_host_parse_audiodev_help (v72);
  g_auto(GStrv) drivers90 = _casement_host_parse_audiodev_help (v90);
  g_autofree char *joined72 = g_strjoinv (" ", drivers72);
  g_autofree char *joined90 = g_strjoinv (" ", drivers90);

  /* Debian's QEMU 7.2 here, without qemu-system-gui: no pa. */
  g_assert_cmpstr (joined72, ==, "alsa dbus none oss sndio spice wav");
  g_assert_cmpstr (joined90, ==, "alsa dbus jack none oss pa pipewire sdl sndio spice wav");
}

/* Firmware descriptors, on fake system roots */

static void
assert_firmware (const char          *root,
                 const char * const  *dirs,
                 gboolean             fallback,
                 gboolean             secure_boot,
                 const char          *code,
                 const char          *vars)
{
  g_autofree char *sysroot = g_test_build_filename (G_TEST_DIST, "data", "host", "firmware", root, NULL);
  g_autofree char *found_code = NULL;
  g_autofree char *found_vars = NULL;
  gboolean found;

  found = _casement_host_find_firmware (sysroot, dirs, fallback, secure_boot, &found_code, &found_vars);

  if (code == NULL)
    {
      g_assert_false (found);
      g_assert_null (found_code);
      g_assert_null (found_vars);
    }
  else
    {
      g_autofree char *want_code = g_build_filename (sysroot, code, NULL);
      g_autofree char *want_vars = g_build_filename (sysroot, vars, NULL);

      g_assert_true (found);
      g_assert_cmpstr (found_code, ==, want_code);
      g_assert_cmpstr (found_vars, ==, want_vars);
    }
}

static void
test_firmware_debian (void)
{
  const char * const dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware", NULL };

  /* The descriptors of Debian 12's ovmf package, as shipped. */
  assert_firmware ("debian-12", dirs, FALSE, TRUE,
                   "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
  assert_firmware ("debian-12", dirs, FALSE, FALSE,
                   "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd");
}

static void
test_firmware_priority (void)
{
  const char * const shipped[] = { "/usr/share/qemu/firmware", NULL };
  const char * const with_etc[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware", NULL };

  /* Skipped before the pick: unparsable, qcow2, stateless, missing files,
   * memory-mapped; for plain also Secure Boot, i440fx-only and aarch64. */
  assert_firmware ("priority", shipped, FALSE, TRUE,
                   "/usr/share/OVMF/OVMF_CODE_A.ms.fd", "/usr/share/OVMF/OVMF_VARS_A.ms.fd");
  assert_firmware ("priority", shipped, FALSE, FALSE,
                   "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd");

  /* /etc masks 40 with an empty file and replaces 60 by name. */
  assert_firmware ("priority", with_etc, FALSE, TRUE,
                   "/usr/share/OVMF/OVMF_CODE_B.ms.fd", "/usr/share/OVMF/OVMF_VARS_B.ms.fd");
  assert_firmware ("priority", with_etc, FALSE, FALSE,
                   "/usr/share/OVMF/OVMF_CODE_LOCAL.fd", "/usr/share/OVMF/OVMF_VARS.fd");
}

static void
test_firmware_fallback (void)
{
  const char * const dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware", NULL };

  assert_firmware ("fedora-no-descriptors", dirs, TRUE, TRUE,
                   "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd");
  assert_firmware ("fedora-no-descriptors", dirs, TRUE, FALSE,
                   "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd");
  assert_firmware ("fedora-no-descriptors", dirs, FALSE, TRUE, NULL, NULL);
  assert_firmware ("no-such-root", dirs, TRUE, TRUE, NULL, NULL);
  assert_firmware ("no-such-root", dirs, TRUE, FALSE, NULL, NULL);
}

static void
test_firmware_dir_override (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *code = NULL;
  g_autofree char *vars = NULL;
  g_autofree char *descriptor_path = NULL;
  g_autofree char *descriptor = NULL;

  if (!in_child ())
    return;

  tmp = make_temp_dir ();
  code = g_build_filename (tmp, "CODE, secure.fd", NULL);
  vars = g_build_filename (tmp, "VARS.fd", NULL);
  descriptor_path = g_build_filename (tmp, "10-mine.json", NULL);

  g_file_set_contents (code, "code", -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (vars, "vars", -1, &error);
  g_assert_no_error (error);
  descriptor = g_strdup_printf ("{ \"interface-types\": [\"uefi\"],"
                                "  \"mapping\": { \"device\": \"flash\","
                                "    \"executable\": { \"filename\": \"%s\", \"format\": \"raw\" },"
                                "    \"nvram-template\": { \"filename\": \"%s\", \"format\": \"raw\" } },"
                                "  \"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"] } ],"
                                "  \"features\": [\"enrolled-keys\", \"requires-smm\", \"secure-boot\"] }",
                                code, vars);
  g_file_set_contents (descriptor_path, descriptor, -1, &error);
  g_assert_no_error (error);

  /* The override folder alone decides: no plain pair in it, and no
   * falling back to the machine's own OVMF. */
  g_setenv ("CASEMENT_FIRMWARE_DIR", tmp, TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (casement_host_get_firmware_code (host, TRUE), ==, code);
  g_assert_cmpstr (casement_host_get_firmware_vars (host, TRUE), ==, vars);
  g_assert_null (casement_host_get_firmware_code (host, FALSE));
  g_assert_null (casement_host_get_firmware_vars (host, FALSE));

  remove_tree (tmp);
}

/* virtiofsd */

static void
test_virtiofsd_parse (void)
{
  g_autofree char *rust = read_fixture ("virtiofsd-rust-help.txt");
  g_autofree char *c = read_fixture ("virtiofsd-c-help.txt");

  g_assert_cmpint (_casement_host_parse_virtiofsd_help (rust), ==, CASEMENT_VIRTIOFSD_RUST);
  g_assert_cmpint (_casement_host_parse_virtiofsd_help (c), ==, CASEMENT_VIRTIOFSD_LEGACY_C);
  g_assert_cmpint (_casement_host_parse_virtiofsd_help ("usage: frobnicate [--help]\n"), ==, CASEMENT_VIRTIOFSD_NONE);
}

typedef struct
{
  char *tmp;
  char *rust;
  char *c;
  char *other;
} FakeVirtiofsd;

static void
fake_virtiofsd_init (FakeVirtiofsd *fake)
{
  g_autofree char *rust_help = g_test_build_filename (G_TEST_DIST, "data", "host", "virtiofsd-rust-help.txt", NULL);
  g_autofree char *c_help = g_test_build_filename (G_TEST_DIST, "data", "host", "virtiofsd-c-help.txt", NULL);
  g_autofree char *rust_body = g_strdup_printf ("cat '%s'\n", rust_help);
  /* Help on stderr and a failing exit status: the text still decides. */
  g_autofree char *c_body = g_strdup_printf ("cat '%s' >&2\nexit 1\n", c_help);

  fake->tmp = make_temp_dir ();
  fake->rust = g_build_filename (fake->tmp, "virtiofsd-rust", NULL);
  fake->c = g_build_filename (fake->tmp, "virtiofsd-c", NULL);
  fake->other = g_build_filename (fake->tmp, "not-virtiofsd", NULL);
  write_script (fake->rust, rust_body);
  write_script (fake->c, c_body);
  write_script (fake->other, "echo 'usage: not-virtiofsd FILE'\n");
}

static void
fake_virtiofsd_clear (FakeVirtiofsd *fake)
{
  remove_tree (fake->tmp);
  g_clear_pointer (&fake->tmp, g_free);
  g_clear_pointer (&fake->rust, g_free);
  g_clear_pointer (&fake->c, g_free);
  g_clear_pointer (&fake->other, g_free);
}

static void
test_virtiofsd_scripts (void)
{
  FakeVirtiofsd fake;

  fake_virtiofsd_init (&fake);
  g_assert_cmpint (_casement_host_probe_virtiofsd (fake.rust, NULL), ==, CASEMENT_VIRTIOFSD_RUST);
  g_assert_cmpint (_casement_host_probe_virtiofsd (fake.c, NULL), ==, CASEMENT_VIRTIOFSD_LEGACY_C);
  g_assert_cmpint (_casement_host_probe_virtiofsd (fake.other, NULL), ==, CASEMENT_VIRTIOFSD_NONE);
  g_assert_cmpint (_casement_host_probe_virtiofsd ("/nonexistent/virtiofsd", NULL), ==, CASEMENT_VIRTIOFSD_NONE);
  fake_virtiofsd_clear (&fake);
}

/* Through the whole probe, with CASEMENT_VIRTIOFSD naming each fake. */
static void
test_virtiofsd_override (gconstpointer data)
{
  const char *which = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  FakeVirtiofsd fake;

  if (!in_child ())
    return;

  fake_virtiofsd_init (&fake);

  if (g_str_equal (which, "rust"))
    g_setenv ("CASEMENT_VIRTIOFSD", fake.rust, TRUE);
  else if (g_str_equal (which, "c"))
    g_setenv ("CASEMENT_VIRTIOFSD", fake.c, TRUE);
  else if (g_str_equal (which, "other"))
    g_setenv ("CASEMENT_VIRTIOFSD", fake.other, TRUE);
  else
    g_setenv ("CASEMENT_VIRTIOFSD", "", TRUE);

  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  if (g_str_equal (which, "rust"))
    {
      g_assert_cmpstr (casement_host_get_virtiofsd_path (host), ==, fake.rust);
      g_assert_cmpint (casement_host_get_virtiofsd_flavour (host), ==, CASEMENT_VIRTIOFSD_RUST);
      g_assert_true (casement_host_get_virtiofsd_usable (host));
    }
  else if (g_str_equal (which, "c"))
    {
      g_assert_cmpstr (casement_host_get_virtiofsd_path (host), ==, fake.c);
      g_assert_cmpint (casement_host_get_virtiofsd_flavour (host), ==, CASEMENT_VIRTIOFSD_LEGACY_C);
      g_assert_cmpint (casement_host_get_virtiofsd_usable (host), ==, geteuid () == 0);
    }
  else
    {
      /* A program that is no virtiofsd counts as none; empty means
       * absent, even where one is installed. */
      g_assert_null (casement_host_get_virtiofsd_path (host));
      g_assert_cmpint (casement_host_get_virtiofsd_flavour (host), ==, CASEMENT_VIRTIOFSD_NONE);
      g_assert_false (casement_host_get_virtiofsd_usable (host));
    }

  fake_virtiofsd_clear (&fake);
}

/* KVM and sound-server checks */

static void
test_kvm_checks (void)
{
  const char * const virt_flags[] = { "fpu", "svm", NULL };
  const char * const plain_flags[] = { "fpu", "sse2", NULL };
  g_autofree char *reason = NULL;

  g_assert_false (_casement_host_check_kvm ("/nonexistent/kvm", virt_flags, &reason));
  g_assert_nonnull (strstr (reason, "/nonexistent/kvm does not exist"));
  g_clear_pointer (&reason, g_free);

  /* Opens, but is no KVM node. */
  g_assert_false (_casement_host_check_kvm ("/dev/null", virt_flags, &reason));
  g_assert_nonnull (strstr (reason, "KVM_CREATE_VM"));
  g_clear_pointer (&reason, g_free);

  if (access ("/dev/kvm", R_OK | W_OK) != 0)
    {
      g_test_skip ("/dev/kvm is not usable here, so the flag check cannot be reached on it");
      return;
    }

  /* On a node that makes VMs, the CPU flags decide: this machine's KVM
   * node works, yet guests die without vmx/svm. */
  g_assert_false (_casement_host_check_kvm ("/dev/kvm", plain_flags, &reason));
  g_assert_nonnull (strstr (reason, "neither vmx nor svm"));
  g_clear_pointer (&reason, g_free);

  g_assert_true (_casement_host_check_kvm ("/dev/kvm", virt_flags, &reason));
  g_assert_null (reason);
}

static void
test_sound_socket (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) stale = NULL;
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *live = g_build_filename (tmp, "pipewire-0", NULL);
  g_autofree char *pulse_dir = g_build_filename (tmp, "pulse", NULL);
  g_autofree char *dead = g_build_filename (pulse_dir, "native", NULL);

  g_assert_false (_casement_host_socket_is_live (live));

  address = g_unix_socket_address_new (live);
  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                 NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (_casement_host_socket_is_live (live));

  /* A server that died leaves its socket file: nobody answers. */
  g_assert_cmpint (g_mkdir (pulse_dir, 0700), ==, 0);
  stale = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  {
    g_autoptr(GSocketAddress) dead_address = g_unix_socket_address_new (dead);

    g_socket_bind (stale, dead_address, TRUE, &error);
    g_assert_no_error (error);
    g_socket_close (stale, &error);
    g_assert_no_error (error);
  }
  g_assert_true (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_false (_casement_host_socket_is_live (dead));

  g_socket_listener_close (listener);
  remove_tree (tmp);
}

/* The live probe looks in $XDG_RUNTIME_DIR; this QEMU has neither the
 * pipewire nor the pa audiodev, so SPICE audio stays the choice. */
static void
test_sound_probe (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *live = NULL;
  g_autofree char *json = NULL;

  if (!in_child ())
    return;

  tmp = make_temp_dir ();
  live = g_build_filename (tmp, "pipewire-0", NULL);
  listener = g_socket_listener_new ();
  address = g_unix_socket_address_new (live);
  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                 NULL, NULL, &error);
  g_assert_no_error (error);

  g_setenv ("XDG_RUNTIME_DIR", tmp, TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);

  json = casement_host_to_json (host);
  g_assert_nonnull (strstr (json, "\"pipewire\" : true"));
  g_assert_nonnull (strstr (json, "\"pulseaudio\" : false"));
  if (casement_host_has_audiodev (host, "pipewire"))
    g_assert_cmpstr (casement_host_get_audio_driver (host), ==, "pipewire");
  else
    g_assert_cmpstr (casement_host_get_audio_driver (host), ==, "spice");

  g_socket_listener_close (listener);
  remove_tree (tmp);
}

/* The live probe */

static void
assert_live_host (CasementHost *host)
{
  g_autofree char *qemu = g_getenv ("CASEMENT_QEMU") != NULL ? g_strdup (g_getenv ("CASEMENT_QEMU"))
                                                              : g_find_program_in_path ("qemu-system-x86_64");
  g_autofree char *swtpm = g_find_program_in_path ("swtpm");
  g_auto(GStrv) problems = NULL;
  guint major = 0;

  g_assert_cmpstr (casement_host_get_qemu_path (host), ==, qemu);
  g_assert_nonnull (casement_host_get_qemu_img_path (host));
  casement_host_get_qemu_version (host, &major, NULL, NULL);
  g_assert_cmpuint (major, >=, 7);
  g_assert_true (casement_host_qemu_version_at_least (host, 7, 0));
  g_assert_false (casement_host_qemu_version_at_least (host, 99, 0));

  g_assert_true (casement_host_has_device (host, "qxl-vga"));
  g_assert_true (casement_host_has_device (host, "vhost-user-fs-pci"));
  g_assert_false (casement_host_has_device (host, "no-such-device"));
  g_assert_true (casement_host_has_audiodev (host, "spice"));

  /* /proc/cpuinfo lists every online CPU, also those outside our affinity. */
  g_assert_cmpuint (casement_host_get_cpu_threads (host), >=, g_get_num_processors ());
  g_assert_cmpuint (casement_host_get_memory_mib (host), >, 256);
  g_assert_cmpint (casement_host_get_cpu_vendor (host), !=, CASEMENT_CPU_VENDOR_UNKNOWN);

  problems = casement_host_dup_problems (host);

  if (!cpuinfo_has_virtualization ())
    {
      g_autofree char *all = NULL;

      /* This machine: /dev/kvm opens and makes VMs, but no vmx/svm. */
      g_assert_false (casement_host_get_kvm_usable (host));
      g_assert_nonnull (strstr (casement_host_get_kvm_reason (host), "neither vmx nor svm"));
      all = g_strjoinv ("\n", problems);
      g_assert_nonnull (strstr (all, "TCG"));
      g_assert_nonnull (strstr (all, "neither vmx nor svm"));
    }
  else
    {
      g_assert_cmpint (casement_host_get_kvm_usable (host), ==, casement_host_get_kvm_reason (host) == NULL);
    }

  /* Debian 12's ovmf: the Microsoft-keys pair and the plain pair. */
  if (g_file_test ("/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json", G_FILE_TEST_EXISTS))
    {
      g_assert_cmpstr (casement_host_get_firmware_code (host, TRUE), ==, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
      g_assert_cmpstr (casement_host_get_firmware_vars (host, TRUE), ==, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
      g_assert_cmpstr (casement_host_get_firmware_code (host, FALSE), ==, "/usr/share/OVMF/OVMF_CODE_4M.fd");
      g_assert_cmpstr (casement_host_get_firmware_vars (host, FALSE), ==, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    }
  else
    {
      g_test_message ("No Debian OVMF descriptors here; firmware paths not compared");
    }

  if (g_getenv ("CASEMENT_SWTPM") == NULL)
    g_assert_cmpstr (casement_host_get_swtpm_path (host), ==, swtpm);

  /* QEMU 7.2's C helper, as Debian 12 ships it. */
  if (g_file_test ("/usr/lib/qemu/virtiofsd", G_FILE_TEST_IS_EXECUTABLE) &&
      casement_host_get_virtiofsd_flavour (host) != CASEMENT_VIRTIOFSD_RUST)
    {
      g_assert_cmpstr (casement_host_get_virtiofsd_path (host), ==, "/usr/lib/qemu/virtiofsd");
      g_assert_cmpint (casement_host_get_virtiofsd_flavour (host), ==, CASEMENT_VIRTIOFSD_LEGACY_C);
      g_assert_cmpint (casement_host_get_virtiofsd_usable (host), ==, geteuid () == 0);
    }

  if (g_file_test ("/usr/sbin/smbd", G_FILE_TEST_IS_EXECUTABLE))
    g_assert_nonnull (casement_host_get_smbd_path (host));
}

static void
test_live_probe (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;

  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);
  assert_live_host (host);
}

static void
probe_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CasementHost **host = user_data;
  g_autoptr(GError) error = NULL;

  *host = casement_host_probe_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_live_probe_async (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) async_host = NULL;
  g_autoptr(CasementHost) sync_host = NULL;
  g_autofree char *async_json = NULL;
  g_autofree char *sync_json = NULL;

  casement_host_probe_async (NULL, probe_done, &async_host);
  while (async_host == NULL)
    g_main_context_iteration (NULL, TRUE);
  assert_live_host (async_host);

  /* Sorted sets: two probes of one machine describe it in the same text. */
  sync_host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);
  async_json = casement_host_to_json (async_host);
  sync_json = casement_host_to_json (sync_host);
  g_assert_cmpstr (async_json, ==, sync_json);
}

static void
test_probe_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;

  g_cancellable_cancel (cancellable);
  host = casement_host_probe (cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (host);
}

static void
test_qemu_missing (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;

  if (!in_child ())
    return;

  g_setenv ("CASEMENT_QEMU", "/nonexistent/qemu-system-x86_64", TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU);
  g_assert_nonnull (strstr (error->message, "/nonexistent/qemu-system-x86_64"));
  g_assert_nonnull (strstr (error->message, "CASEMENT_QEMU"));
  g_assert_null (host);
}

static void
test_qemu_broken (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *fake = NULL;

  if (!in_child ())
    return;

  /* A program that answers -version with no version. */
  tmp = make_temp_dir ();
  fake = g_build_filename (tmp, "qemu-system-x86_64", NULL);
  write_script (fake, "echo 'this is not qemu'\n");
  g_setenv ("CASEMENT_QEMU", fake, TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU);
  g_assert_nonnull (strstr (error->message, fake));
  g_assert_null (host);

  remove_tree (tmp);
}

static void
test_qemu_no_help (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *fake = NULL;

  if (!in_child ())
    return;

  /* Gives a version, then fails -device help. */
  tmp = make_temp_dir ();
  fake = g_build_filename (tmp, "qemu-system-x86_64", NULL);
  write_script (fake,
                "[ \"$1\" = -version ] && { echo 'QEMU emulator version 7.2.0'; exit 0; }\n"
                "echo 'qemu: could not load a module' >&2\nexit 1\n");
  g_setenv ("CASEMENT_QEMU", fake, TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU);
  g_assert_nonnull (strstr (error->message, "-device help"));
  g_assert_nonnull (strstr (error->message, "could not load a module"));
  g_assert_null (host);

  remove_tree (tmp);
}

static void
test_swtpm_absent (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CasementHost) host = NULL;
  g_auto(GStrv) problems = NULL;
  g_autofree char *all = NULL;

  if (!in_child ())
    return;

  g_setenv ("CASEMENT_SWTPM", "", TRUE);
  host = casement_host_probe (NULL, &error);
  g_assert_no_error (error);
  g_assert_null (casement_host_get_swtpm_path (host));

  problems = casement_host_dup_problems (host);
  all = g_strjoinv ("\n", problems);
  g_assert_nonnull (strstr (all, "Windows 11 cannot get the TPM 2.0"));
}

/* JSON */

static void
test_json_round_trip (void)
{
  const char *fixtures[] = { "tcg-qemu-7.2", "intel-kvm-qemu-7.2", "amd-kvm-qemu-9.0", "bare-qemu-7.2" };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      g_autoptr(CasementHost) host = load_host (fixtures[i]);
      g_autoptr(CasementHost) again = NULL;
      g_autofree char *json = casement_host_to_json (host);
      g_autofree char *json_again = NULL;

      again = casement_host_new_from_json (json, &error);
      g_assert_no_error (error);
      json_again = casement_host_to_json (again);
      g_assert_cmpstr (json, ==, json_again);
      g_assert_finalize_object (g_steal_pointer (&again));
    }

  /* And the live machine. */
  {
    g_autoptr(CasementHost) live = casement_host_probe (NULL, &error);
    g_autoptr(CasementHost) again = NULL;
    g_autofree char *json = NULL;
    g_autofree char *json_again = NULL;

    g_assert_no_error (error);
    json = casement_host_to_json (live);
    again = casement_host_new_from_json (json, &error);
    g_assert_no_error (error);
    json_again = casement_host_to_json (again);
    g_assert_cmpstr (json, ==, json_again);
  }
}

static void
test_json_fixtures (void)
{
  g_autoptr(CasementHost) tcg = load_host ("tcg-qemu-7.2");
  g_autoptr(CasementHost) intel = load_host ("intel-kvm-qemu-7.2");
  g_autoptr(CasementHost) amd = load_host ("amd-kvm-qemu-9.0");
  g_autoptr(CasementHost) bare = load_host ("bare-qemu-7.2");
  guint major = 0, minor = 0, micro = 0;

  g_assert_false (casement_host_get_kvm_usable (tcg));
  g_assert_nonnull (strstr (casement_host_get_kvm_reason (tcg), "neither vmx nor svm"));
  g_assert_cmpstr (casement_host_get_audio_driver (tcg), ==, "spice");
  g_assert_cmpuint (casement_host_get_default_cpus (tcg), ==, 2);

  g_assert_true (casement_host_get_kvm_usable (intel));
  g_assert_null (casement_host_get_kvm_reason (intel));
  g_assert_cmpint (casement_host_get_cpu_vendor (intel), ==, CASEMENT_CPU_VENDOR_INTEL);
  g_assert_true (casement_host_has_cpu_flag (intel, "vmx"));
  g_assert_cmpstr (casement_host_get_audio_driver (intel), ==, "pa");
  /* The C helper, run by a user: not usable. */
  g_assert_cmpint (casement_host_get_virtiofsd_flavour (intel), ==, CASEMENT_VIRTIOFSD_LEGACY_C);
  g_assert_false (casement_host_get_virtiofsd_usable (intel));
  g_assert_cmpuint (casement_host_get_default_cpus (intel), ==, 4);

  casement_host_get_qemu_version (amd, &major, &minor, &micro);
  g_assert_cmpuint (major, ==, 9);
  g_assert_cmpuint (minor, ==, 0);
  g_assert_cmpuint (micro, ==, 2);
  g_assert_true (casement_host_qemu_version_at_least (amd, 7, 1));
  g_assert_true (casement_host_qemu_version_at_least (amd, 9, 0));
  g_assert_false (casement_host_qemu_version_at_least (amd, 9, 1));
  g_assert_false (casement_host_qemu_version_at_least (amd, 10, 0));
  g_assert_cmpint (casement_host_get_cpu_vendor (amd), ==, CASEMENT_CPU_VENDOR_AMD);
  g_assert_true (casement_host_has_cpu_flag (amd, "avic"));
  g_assert_cmpstr (casement_host_get_audio_driver (amd), ==, "pipewire");
  g_assert_true (casement_host_get_virtiofsd_usable (amd));
  g_assert_cmpuint (casement_host_get_default_cpus (amd), ==, 8);

  g_assert_null (casement_host_get_swtpm_path (bare));
  g_assert_null (casement_host_get_virtiofsd_path (bare));
  g_assert_null (casement_host_get_firmware_code (bare, TRUE));
  g_assert_nonnull (casement_host_get_firmware_code (bare, FALSE));
}

static void
test_json_errors (void)
{
  const struct {
    const char *json;
    const char *mentions;
  } cases[] = {
    { "{ not json", "not valid JSON" },
    { "[1, 2]", "not a JSON object" },
    { "{ \"version\": 1 }", "“qemu”" },
    { "{ \"version\": 2 }", "version 2" },
    { "{ \"version\": 1, \"qemu\": { \"path\": 7 } }", "“path”" },
    { "{ \"version\": 1, \"qemu\": { \"path\": \"/q\", \"version\": \"7.2\", \"img-path\": null,"
      "  \"devices\": [], \"audiodevs\": [] } }", "QEMU version “7.2”" },
  };
  g_autofree char *good = read_fixture ("tcg-qemu-7.2.json");
  g_autofree char *bad_flavour = NULL;
  g_autofree char *bad_flags = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CasementHost) host = casement_host_new_from_json (cases[i].json, &error);

      g_assert_null (host);
      g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE);
      if (strstr (error->message, cases[i].mentions) == NULL)
        g_error ("“%s” does not mention “%s”", error->message, cases[i].mentions);
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CasementHost) host = NULL;

    {
      g_auto(GStrv) parts = g_strsplit (good, "\"legacy-c\"", 2);

      g_assert_cmpuint (g_strv_length (parts), ==, 2);
      bad_flavour = g_strjoinv ("\"perl\"", parts);
    }
    host = casement_host_new_from_json (bad_flavour, &error);
    g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "“perl”"));
  }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(CasementHost) host = NULL;
    g_auto(GStrv) parts = g_strsplit (good, "\"flags\": [", 2);

    g_assert_cmpuint (g_strv_length (parts), ==, 2);
    bad_flags = g_strjoinv ("\"flags\": [ 42,", parts);
    host = casement_host_new_from_json (bad_flags, &error);
    g_assert_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE);
    g_assert_nonnull (strstr (error->message, "“flags”"));
  }
}

static void
test_problems (void)
{
  g_autoptr(CasementHost) amd = load_host ("amd-kvm-qemu-9.0");
  g_autoptr(CasementHost) intel = load_host ("intel-kvm-qemu-7.2");
  g_autoptr(CasementHost) bare = load_host ("bare-qemu-7.2");
  g_auto(GStrv) none = casement_host_dup_problems (amd);
  g_auto(GStrv) intel_problems = casement_host_dup_problems (intel);
  g_auto(GStrv) bare_problems = casement_host_dup_problems (bare);
  g_autofree char *intel_all = g_strjoinv ("\n", intel_problems);
  g_autofree char *bare_all = g_strjoinv ("\n", bare_problems);

  /* Everything in place: nothing to say. */
  g_assert_cmpuint (g_strv_length (none), ==, 0);

  g_assert_cmpuint (g_strv_length (intel_problems), ==, 1);
  g_assert_nonnull (strstr (intel_all, "only runs as root"));
  g_assert_nonnull (strstr (intel_all, "SMB"));

  g_assert_cmpuint (g_strv_length (bare_problems), ==, 4);
  g_assert_nonnull (strstr (bare_all, "TCG"));
  g_assert_nonnull (strstr (bare_all, "Windows 11 cannot get the TPM 2.0"));
  g_assert_nonnull (strstr (bare_all, "Secure Boot and Microsoft keys"));
  g_assert_nonnull (strstr (bare_all, "virtiofsd was not found"));
  g_assert_nonnull (strstr (bare_all, "WebDAV"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Casement/Host/parse/qemu-version", test_parse_qemu_version);
  g_test_add_func ("/Casement/Host/parse/cpuinfo", test_parse_cpuinfo);
  g_test_add_func ("/Casement/Host/parse/meminfo", test_parse_meminfo);
  g_test_add_func ("/Casement/Host/parse/device-help", test_parse_device_help);
  g_test_add_func ("/Casement/Host/parse/audiodev-help", test_parse_audiodev_help);
  g_test_add_func ("/Casement/Host/firmware/debian", test_firmware_debian);
  g_test_add_func ("/Casement/Host/firmware/priority", test_firmware_priority);
  g_test_add_func ("/Casement/Host/firmware/fallback", test_firmware_fallback);
  g_test_add_func ("/Casement/Host/firmware/dir-override", test_firmware_dir_override);
  g_test_add_func ("/Casement/Host/virtiofsd/parse", test_virtiofsd_parse);
  g_test_add_func ("/Casement/Host/virtiofsd/scripts", test_virtiofsd_scripts);
  g_test_add_data_func ("/Casement/Host/virtiofsd/override-rust", "rust", test_virtiofsd_override);
  g_test_add_data_func ("/Casement/Host/virtiofsd/override-c", "c", test_virtiofsd_override);
  g_test_add_data_func ("/Casement/Host/virtiofsd/override-other", "other", test_virtiofsd_override);
  g_test_add_data_func ("/Casement/Host/virtiofsd/override-empty", "empty", test_virtiofsd_override);
  g_test_add_func ("/Casement/Host/kvm", test_kvm_checks);
  g_test_add_func ("/Casement/Host/sound/socket", test_sound_socket);
  g_test_add_func ("/Casement/Host/sound/probe", test_sound_probe);
  g_test_add_func ("/Casement/Host/live/probe", test_live_probe);
  g_test_add_func ("/Casement/Host/live/probe-async", test_live_probe_async);
  g_test_add_func ("/Casement/Host/live/cancelled", test_probe_cancelled);
  g_test_add_func ("/Casement/Host/live/qemu-missing", test_qemu_missing);
  g_test_add_func ("/Casement/Host/live/qemu-broken", test_qemu_broken);
  g_test_add_func ("/Casement/Host/live/qemu-no-help", test_qemu_no_help);
  g_test_add_func ("/Casement/Host/live/swtpm-absent", test_swtpm_absent);
  g_test_add_func ("/Casement/Host/json/round-trip", test_json_round_trip);
  g_test_add_func ("/Casement/Host/json/fixtures", test_json_fixtures);
  g_test_add_func ("/Casement/Host/json/errors", test_json_errors);
  g_test_add_func ("/Casement/Host/problems", test_problems);

  return g_test_run ();
}
