/* test-vm-config.c
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

#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "casement-enums.h"
#include "casement-vm-config.h"

#define GIB (G_GUINT64_CONSTANT (1) << 30)

/* A folder of its own for one test, inside the isolated data folder that
 * GLib removes after each test. */
static char *
make_test_dir (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "config-test", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_steal_pointer (&dir);
}

static char **
list_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_add (names, NULL);

  return (char **)g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static CasementVmConfig *
load_json (const char  *json,
           GError     **error)
{
  return casement_vm_config_new_from_json (json, -1, error);
}

/* Every setting away from its default, so a round trip proves each one. */
static CasementVmConfig *
make_full_config (void)
{
  const char * const forwards[] = { "tcp:2222:22", "udp:5353:53", NULL };
  CasementVmConfig *config = casement_vm_config_new ("Büro, “Windows” 11");

  casement_vm_config_set_os_id (config, "win10");
  casement_vm_config_set_cpus (config, 6);
  casement_vm_config_set_memory_mib (config, 12288);
  casement_vm_config_set_disk_path (config, "disks/system.qcow2");
  casement_vm_config_set_disk_size (config, 200 * GIB + 512);
  casement_vm_config_set_install_iso (config, "/home/u/ISOs/Win10, 22H2 ü.iso");
  casement_vm_config_set_drivers_iso (config, "/home/u/ISOs/virtio-win.iso");
  casement_vm_config_set_unattend_media (config, "unattend.iso");
  casement_vm_config_set_winfsp_installer (config, "/home/u/Downloads/winfsp-2.0.23075.msi");
  casement_vm_config_set_installed (config, TRUE);
  casement_vm_config_set_kernel (config, "/boot/vmlinuz");
  casement_vm_config_set_initrd (config, "/boot/initrd.img");
  casement_vm_config_set_kernel_cmdline (config, "console=ttyS0 quiet");
  casement_vm_config_set_share_folder (config, "/home/u/Shared Stuff");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_WEBDAV);
  casement_vm_config_set_share_read_only (config, TRUE);
  casement_vm_config_set_tpm (config, FALSE);
  casement_vm_config_set_secure_boot (config, FALSE);
  casement_vm_config_set_network (config, CASEMENT_NETWORK_USER);
  casement_vm_config_set_port_forwards (config, forwards);
  casement_vm_config_set_audio (config, FALSE);
  casement_vm_config_set_express_install (config, FALSE);
  casement_vm_config_set_user_name (config, "Jörg");
  casement_vm_config_set_computer_name (config, "BUERO-PC");
  casement_vm_config_set_language (config, "de-DE");
  casement_vm_config_set_keyboard (config, "0407:00000407");
  casement_vm_config_set_product_key (config, "VK7JG-NPHTM-C97JM-9MPGT-3V66T");

  return config;
}

static void
assert_configs_equal (CasementVmConfig *a,
                      CasementVmConfig *b)
{
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (a), &n_pspecs);
  g_assert_cmpuint (n_pspecs, ==, 28);

  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) va = G_VALUE_INIT;
      g_auto(GValue) vb = G_VALUE_INIT;

      g_value_init (&va, pspecs[i]->value_type);
      g_value_init (&vb, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (a), pspecs[i]->name, &va);
      g_object_get_property (G_OBJECT (b), pspecs[i]->name, &vb);

      if (pspecs[i]->value_type == G_TYPE_STRV)
        {
          g_assert_true (g_strv_equal (g_value_get_boxed (&va), g_value_get_boxed (&vb)));
        }
      else if (g_param_values_cmp (pspecs[i], &va, &vb) != 0)
        {
          g_autofree char *sa = g_strdup_value_contents (&va);
          g_autofree char *sb = g_strdup_value_contents (&vb);

          g_error ("Property %s differs: %s vs %s", pspecs[i]->name, sa, sb);
        }
    }
}

static void
assert_windows_11_defaults (CasementVmConfig *config)
{
  g_assert_cmpstr (casement_vm_config_get_os_id (config), ==, "win11");
  g_assert_true (casement_vm_config_is_windows (config));
  g_assert_cmpuint (casement_vm_config_get_cpus (config), ==, 2);
  g_assert_cmpuint (casement_vm_config_get_memory_mib (config), ==, 4096);
  g_assert_cmpstr (casement_vm_config_get_disk_path (config), ==, "disk.qcow2");
  g_assert_cmpuint (casement_vm_config_get_disk_size (config), ==, 64 * GIB);
  g_assert_null (casement_vm_config_get_install_iso (config));
  g_assert_null (casement_vm_config_get_drivers_iso (config));
  g_assert_null (casement_vm_config_get_unattend_media (config));
  g_assert_null (casement_vm_config_get_winfsp_installer (config));
  g_assert_false (casement_vm_config_get_installed (config));
  g_assert_null (casement_vm_config_get_kernel (config));
  g_assert_null (casement_vm_config_get_initrd (config));
  g_assert_null (casement_vm_config_get_kernel_cmdline (config));
  g_assert_null (casement_vm_config_get_share_folder (config));
  g_assert_cmpint (casement_vm_config_get_share_method (config), ==, CASEMENT_SHARE_METHOD_NONE);
  g_assert_false (casement_vm_config_get_share_read_only (config));
  g_assert_true (casement_vm_config_get_tpm (config));
  g_assert_true (casement_vm_config_get_secure_boot (config));
  g_assert_cmpint (casement_vm_config_get_network (config), ==, CASEMENT_NETWORK_USER);
  g_assert_nonnull (casement_vm_config_get_port_forwards (config));
  g_assert_null (casement_vm_config_get_port_forwards (config)[0]);
  g_assert_true (casement_vm_config_get_audio (config));
  g_assert_true (casement_vm_config_get_express_install (config));
  g_assert_null (casement_vm_config_get_user_name (config));
  g_assert_null (casement_vm_config_get_computer_name (config));
  g_assert_null (casement_vm_config_get_language (config));
  g_assert_null (casement_vm_config_get_keyboard (config));
  g_assert_null (casement_vm_config_get_product_key (config));
}

static void
test_vm_config_defaults (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("Windows 11");
  g_autoptr(CasementVmConfig) loaded = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "Windows 11");
  assert_windows_11_defaults (config);
  g_assert_true (casement_vm_config_validate (config, &error));
  g_assert_no_error (error);

  /* Members left out of a file take the same defaults. */
  loaded = load_json ("{\"schema_version\": 1, \"name\": \"Windows 11\"}", &error);
  g_assert_no_error (error);
  assert_windows_11_defaults (loaded);
  assert_configs_equal (config, loaded);
}

static void
test_vm_config_defaults_by_guest (void)
{
  g_autoptr(CasementVmConfig) linux_guest = NULL;
  g_autoptr(CasementVmConfig) win10 = NULL;
  g_autoptr(CasementVmConfig) shared = NULL;
  g_autoptr(CasementVmConfig) unshared = NULL;
  g_autoptr(GError) error = NULL;

  linux_guest = load_json ("{\"schema_version\": 1, \"name\": \"Test\", \"os_id\": \"debian12\"}", &error);
  g_assert_no_error (error);
  g_assert_false (casement_vm_config_is_windows (linux_guest));
  g_assert_false (casement_vm_config_get_tpm (linux_guest));
  g_assert_false (casement_vm_config_get_secure_boot (linux_guest));
  g_assert_false (casement_vm_config_get_express_install (linux_guest));

  win10 = load_json ("{\"schema_version\": 1, \"name\": \"Ten\", \"os_id\": \"win10\"}", &error);
  g_assert_no_error (error);
  g_assert_true (casement_vm_config_is_windows (win10));
  g_assert_false (casement_vm_config_get_tpm (win10));
  g_assert_true (casement_vm_config_get_express_install (win10));

  /* A stated value wins over the guest's default. */
  g_clear_object (&linux_guest);
  linux_guest = load_json ("{\"schema_version\": 1, \"name\": \"T\", \"os_id\": \"debian12\", \"tpm\": true}", &error);
  g_assert_no_error (error);
  g_assert_true (casement_vm_config_get_tpm (linux_guest));

  shared = load_json ("{\"schema_version\": 1, \"name\": \"S\", \"share_folder\": \"/srv/share\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (casement_vm_config_get_share_method (shared), ==, CASEMENT_SHARE_METHOD_AUTO);

  unshared = load_json ("{\"schema_version\": 1, \"name\": \"S\", \"share_folder\": \"/srv/share\", "
                        "\"share_method\": \"smb\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpint (casement_vm_config_get_share_method (unshared), ==, CASEMENT_SHARE_METHOD_SMB);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_vm_config_notify (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("N");
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (config), &n_pspecs);

  for (guint i = 0; i < n_pspecs; i++)
    {
      const char * const forwards[] = { "tcp:1:2", NULL };
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *detailed = g_strconcat ("notify::", pspecs[i]->name, NULL);
      guint count = 0;
      gulong handler;

      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (G_OBJECT (config), pspecs[i]->name, &value);

      if (G_VALUE_HOLDS_STRING (&value))
        g_value_set_string (&value, "/changed");
      else if (G_VALUE_HOLDS_UINT (&value))
        g_value_set_uint (&value, g_value_get_uint (&value) + 1);
      else if (G_VALUE_HOLDS_UINT64 (&value))
        g_value_set_uint64 (&value, g_value_get_uint64 (&value) + 1);
      else if (G_VALUE_HOLDS_BOOLEAN (&value))
        g_value_set_boolean (&value, !g_value_get_boolean (&value));
      else if (G_VALUE_HOLDS_ENUM (&value))
        g_value_set_enum (&value, g_value_get_enum (&value) == 0 ? 1 : 0);
      else if (G_VALUE_HOLDS (&value, G_TYPE_STRV))
        g_value_set_boxed (&value, forwards);
      else
        g_assert_not_reached ();

      handler = g_signal_connect (config, detailed, G_CALLBACK (count_notify), &count);
      g_object_set_property (G_OBJECT (config), pspecs[i]->name, &value);
      g_assert_cmpuint (count, ==, 1);
      g_object_set_property (G_OBJECT (config), pspecs[i]->name, &value);
      g_assert_cmpuint (count, ==, 1);
      g_signal_handler_disconnect (config, handler);
    }

  /* An empty optional string is no value: it does not count as a change. */
  {
    guint count = 0;

    g_signal_connect (config, "notify::product-key", G_CALLBACK (count_notify), &count);
    casement_vm_config_set_product_key (config, NULL);
    g_assert_cmpuint (count, ==, 1);
    casement_vm_config_set_product_key (config, "");
    g_assert_cmpuint (count, ==, 1);
    g_assert_null (casement_vm_config_get_product_key (config));
  }

  g_assert_finalize_object (g_steal_pointer (&config));
}

static void
test_vm_config_round_trip (void)
{
  g_autoptr(CasementVmConfig) config = make_full_config ();
  g_autoptr(CasementVmConfig) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "vm.json", NULL);
  g_autofree char *json = NULL;
  g_autofree char *json_again = NULL;

  file = g_file_new_for_path (path);
  g_assert_true (casement_vm_config_save (config, file, &error));
  g_assert_no_error (error);

  loaded = casement_vm_config_load (file, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  assert_configs_equal (config, loaded);

  json = casement_vm_config_to_json (config);
  json_again = casement_vm_config_to_json (loaded);
  g_assert_cmpstr (json, ==, json_again);
}

/* The file format is a promise to existing VMs: it changes only with a
 * new schema_version. */
static void
test_vm_config_golden (void)
{
  g_autoptr(CasementVmConfig) config = make_full_config ();
  g_autoptr(CasementVmConfig) golden = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *json = NULL;
  const char *path;

  path = g_test_get_filename (G_TEST_DIST, "data", "config", "full.json", NULL);
  g_assert_true (g_file_get_contents (path, &expected, NULL, &error));
  g_assert_no_error (error);

  json = casement_vm_config_to_json (config);
  g_assert_cmpstr (json, ==, expected);

  golden = load_json (expected, &error);
  g_assert_no_error (error);
  assert_configs_equal (config, golden);
}

static void
test_vm_config_unknown_members (void)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  config = load_json ("{\"schema_version\": 1, \"name\": \"Later\", \"cpus\": 3,"
                      " \"gpu\": {\"kind\": \"virgl\", \"memory\": [1, 2]}, \"hugepages\": true}",
                      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (casement_vm_config_get_name (config), ==, "Later");
  g_assert_cmpuint (casement_vm_config_get_cpus (config), ==, 3);
}

typedef struct
{
  const char *members;
  int         code;
  const char *expected;   /* a part of the message */
} RejectCase;

static void
test_vm_config_reject (void)
{
  static const RejectCase cases[] = {
    { "\"name\": \"\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” must not be empty" },
    { "\"name\": \"  \"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” must not be empty" },
    { "\"name\": null", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” must not be empty" },
    { "\"name\": 5", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” must be text, not “5”" },
    { "\"name\": \"two\\nlines\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” must be a single line" },
    { "\"os_id\": \"\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “os_id” must not be empty" },
    { "\"os_id\": [\"win11\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “os_id” must be text" },
    { "\"cpus\": -3", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “cpus” must be a whole number from 1 to 256, not “-3”" },
    { "\"cpus\": 0", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “cpus” must be a whole number from 1 to 256, not “0”" },
    { "\"cpus\": 257", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “257”" },
    { "\"cpus\": \"4\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “cpus” must be a whole number from 1 to 256, not “\"4\"”" },
    { "\"cpus\": 2.5", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “cpus” must be a whole number" },
    { "\"cpus\": true", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “cpus” must be a whole number" },
    { "\"cpus\": 4294967297", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “cpus” must be a whole number" },
    { "\"memory_mib\": 100", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “memory_mib” must be a whole number from 256 to 4194304, not “100”" },
    { "\"memory_mib\": 8589934592", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “memory_mib” must be a whole number" },
    { "\"memory_mib\": -1", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “memory_mib”" },
    { "\"memory_mib\": 1024.5", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “memory_mib”" },
    { "\"disk_size\": -1", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_size” must be a whole number from 0 to" },
    { "\"disk_size\": 1.5e10", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_size” must be a whole number" },
    { "\"disk_size\": \"64G\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_size” must be a whole number" },
    { "\"disk_path\": \"\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_path” must not be empty" },
    { "\"disk_path\": \"../other/disk.qcow2\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “disk_path” must be an absolute path or a file name inside the VM's folder, not “../other/disk.qcow2”" },
    { "\"disk_path\": \"a/../../b\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_path”" },
    { "\"disk_path\": \".\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “disk_path”" },
    { "\"install_iso\": \"Downloads/win.iso\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “install_iso” must be an absolute path (starting with “/”), not “Downloads/win.iso”" },
    { "\"drivers_iso\": \"virtio-win.iso\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “drivers_iso” must be an absolute path" },
    { "\"drivers_iso\": 1", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “drivers_iso” must be text, not “1”" },
    { "\"kernel\": \"vmlinuz\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “kernel” must be an absolute path" },
    { "\"initrd\": \"initrd.img\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “initrd” must be an absolute path" },
    { "\"share_folder\": \"~/Public\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “share_folder” must be an absolute path" },
    { "\"unattend_media\": \"../unattend.iso\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “unattend_media”" },
    { "\"winfsp_installer\": \"winfsp.msi\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “winfsp_installer” must be an absolute path" },
    { "\"kernel_cmdline\": 5", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “kernel_cmdline” must be text" },
    { "\"share_method\": \"nfs\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “share_method” must be one of “none”, “auto”, “virtiofs”, “smb”, “webdav”, not “nfs”" },
    { "\"share_method\": 2", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “share_method” must be one of" },
    { "\"share_method\": \"VIRTIOFS\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “VIRTIOFS”" },
    { "\"network\": \"bridge\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “network” must be one of “user”, “none”, not “bridge”" },
    { "\"tpm\": \"true\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “tpm” must be true or false, not “\"true\"”" },
    { "\"audio\": 1", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “audio” must be true or false, not “1”" },
    { "\"installed\": null", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “installed” must be true or false" },
    { "\"secure_boot\": \"yes\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “secure_boot”" },
    { "\"share_read_only\": 0", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “share_read_only”" },
    { "\"express_install\": [] ", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “express_install”" },
    { "\"port_forwards\": \"tcp:8080:80\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “port_forwards” must be a list of port forwards" },
    { "\"port_forwards\": [\"tcp:8080\"]", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “port_forwards” needs entries like “tcp:8080:80” (protocol tcp or udp, host port, guest port, "
      "ports from 1 to 65535), not “tcp:8080”" },
    { "\"port_forwards\": [\"sctp:1:2\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “sctp:1:2”" },
    { "\"port_forwards\": [\"tcp:0:80\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “tcp:0:80”" },
    { "\"port_forwards\": [\"udp:53:65536\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “udp:53:65536”" },
    { "\"port_forwards\": [\"tcp:+80:80\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “tcp:+80:80”" },
    { "\"port_forwards\": [\"TCP:80:80\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “TCP:80:80”" },
    { "\"port_forwards\": [\"tcp:80:80:1\"]", CASEMENT_VM_CONFIG_ERROR_INVALID, "not “tcp:80:80:1”" },
    { "\"port_forwards\": [8080]", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “port_forwards” needs entries" },
    { "\"port_forwards\": [\"tcp:8080:80\", \"udp:8080:80\", \"tcp:8080:81\"]", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “port_forwards” forwards host port tcp:8080 twice" },
    { "\"user_name\": \"a/b\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “user_name” must be a Windows user name" },
    { "\"user_name\": \"abcdefghijklmnopqrstu\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “user_name”" },
    { "\"user_name\": \"...\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “user_name”" },
    { "\"computer_name\": \"1234\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “computer_name” must be 1 to 15 letters, digits or hyphens, not only digits, not “1234”" },
    { "\"computer_name\": \"my pc\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “computer_name”" },
    { "\"computer_name\": \"sixteen-chars-xx\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “computer_name”" },
    { "\"language\": \"en_US\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “language” must be a language tag such as “en-US”, not “en_US”" },
    { "\"language\": \"e\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “language”" },
    { "\"keyboard\": \"en US\"", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “keyboard” must be an input locale" },
    { "\"product_key\": \"ABCDE-12345\"", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “product_key” must be a product key of the form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CasementVmConfig) config = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *json = NULL;

      /* A later member of the same name replaces the valid "name". */
      json = g_strdup_printf ("{\"schema_version\": 1, \"name\": \"Valid\", %s}", cases[i].members);
      config = load_json (json, &error);

      g_test_message ("%s → %s", cases[i].members, error ? error->message : "(accepted)");
      g_assert_null (config);
      g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].expected));
    }
}

static void
test_vm_config_reject_product_key_not_shown (void)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  config = load_json ("{\"schema_version\": 1, \"name\": \"K\", \"product_key\": \"SECRE-TKEY0-00000-0000\"}", &error);
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID);
  g_assert_null (strstr (error->message, "SECRE"));
}

static void
test_vm_config_reject_document (void)
{
  static const RejectCase cases[] = {
    { "", CASEMENT_VM_CONFIG_ERROR_PARSE, "there is nothing in it" },
    { "  \n", CASEMENT_VM_CONFIG_ERROR_PARSE, "there is nothing in it" },
    { "{\"schema_version\": 1, \"name\": ", CASEMENT_VM_CONFIG_ERROR_PARSE, "Not valid JSON" },
    { "[1, 2]", CASEMENT_VM_CONFIG_ERROR_PARSE, "not an object" },
    { "\"vm\"", CASEMENT_VM_CONFIG_ERROR_PARSE, "not an object" },
    { "{\"name\": \"x\"}", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “schema_version” is missing" },
    { "{\"schema_version\": \"1\", \"name\": \"x\"}", CASEMENT_VM_CONFIG_ERROR_INVALID,
      "Field “schema_version” must be a whole number, 1 or more, not “\"1\"”" },
    { "{\"schema_version\": 0, \"name\": \"x\"}", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “schema_version”" },
    { "{\"schema_version\": 1}", CASEMENT_VM_CONFIG_ERROR_INVALID, "Field “name” is missing" },
    { "{\"schema_version\": 2, \"name\": \"x\", \"cpus\": \"many\"}", CASEMENT_VM_CONFIG_ERROR_UNSUPPORTED,
      "format version 2, but this Casement reads only up to version 1; update Casement" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(CasementVmConfig) config = NULL;
      g_autoptr(GError) error = NULL;

      config = load_json (cases[i].members, &error);
      g_test_message ("%s → %s", cases[i].members, error ? error->message : "(accepted)");
      g_assert_null (config);
      g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].expected));
    }
}

static void
assert_invalid (CasementVmConfig *config,
                const char       *expected)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (casement_vm_config_validate (config, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, expected));
}

static void
assert_valid (CasementVmConfig *config)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (casement_vm_config_validate (config, &error));
  g_assert_no_error (error);
}

static void
test_vm_config_validate_fields (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("V");
  const char * const bad_forwards[] = { "tcp:22:22", "tcp:22:2222", NULL };

  assert_valid (config);

  casement_vm_config_set_name (config, NULL);
  assert_invalid (config, "Field “name” must not be empty");
  casement_vm_config_set_name (config, "V");

  casement_vm_config_set_cpus (config, 0);
  assert_invalid (config, "Field “cpus” must be a whole number from 1 to 256, not “0”");
  casement_vm_config_set_cpus (config, 300);
  assert_invalid (config, "not “300”");
  casement_vm_config_set_cpus (config, 256);
  assert_valid (config);

  casement_vm_config_set_memory_mib (config, G_GUINT64_CONSTANT (1) << 40);
  assert_invalid (config, "Field “memory_mib” must be a whole number from 256 to 4194304, not “1099511627776”");
  casement_vm_config_set_memory_mib (config, 4096);

  casement_vm_config_set_disk_size (config, G_MAXUINT64);
  assert_invalid (config, "Field “disk_size” must be a whole number from 0 to 9223372036854775807");
  casement_vm_config_set_disk_size (config, 64 * GIB);

  casement_vm_config_set_install_iso (config, "win.iso");
  assert_invalid (config, "Field “install_iso” must be an absolute path");
  casement_vm_config_set_install_iso (config, "/isos/win.iso");

  casement_vm_config_set_disk_path (config, "../disk.qcow2");
  assert_invalid (config, "Field “disk_path”");
  casement_vm_config_set_disk_path (config, "/var/lib/images/existing.qcow2");
  assert_valid (config);

  casement_vm_config_set_share_method (config, (CasementShareMethod) 42);
  assert_invalid (config, "Field “share_method” must be one of");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_NONE);

  casement_vm_config_set_port_forwards (config, bad_forwards);
  assert_invalid (config, "forwards host port tcp:22 twice");
  casement_vm_config_set_port_forwards (config, NULL);

  assert_valid (config);
}

static void
test_vm_config_validate_windows_11 (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("Eleven");

  casement_vm_config_set_memory_mib (config, 2048);
  assert_invalid (config, "Windows 11 needs at least 4096 MiB of memory (Microsoft's minimum), "
                          "but field “memory_mib” is 2048");
  casement_vm_config_set_memory_mib (config, 4096);

  casement_vm_config_set_disk_size (config, 32 * GIB);
  assert_invalid (config, "Windows 11 needs a disk of at least 64 GiB (Microsoft's minimum), "
                          "but field “disk_size” is 32.0\302\240GiB");
  /* An existing disk (size 0) is not second-guessed. */
  casement_vm_config_set_disk_size (config, 0);
  assert_valid (config);
  casement_vm_config_set_disk_size (config, 64 * GIB);

  casement_vm_config_set_tpm (config, FALSE);
  assert_invalid (config, "Windows 11 does not install without a TPM 2.0; turn on field “tpm”");
  casement_vm_config_set_tpm (config, TRUE);
  assert_valid (config);

  /* Windows 10 has no such minimums. */
  casement_vm_config_set_os_id (config, "win10");
  casement_vm_config_set_memory_mib (config, 2048);
  casement_vm_config_set_disk_size (config, 32 * GIB);
  casement_vm_config_set_tpm (config, FALSE);
  assert_valid (config);
}

static void
test_vm_config_validate_combinations (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("Combo");
  const char * const forwards[] = { "tcp:8080:80", NULL };

  casement_vm_config_set_share_folder (config, "/home/u/Public");
  assert_invalid (config, "Field “share_folder” is set but field “share_method” is “none”");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_AUTO);
  assert_valid (config);
  casement_vm_config_set_share_folder (config, NULL);
  assert_invalid (config, "Field “share_method” asks for sharing but field “share_folder” is not set");
  casement_vm_config_set_share_method (config, CASEMENT_SHARE_METHOD_NONE);
  assert_valid (config);

  casement_vm_config_set_os_id (config, "debian12");
  casement_vm_config_set_initrd (config, "/boot/initrd.img");
  assert_invalid (config, "Fields “initrd” and “kernel_cmdline” only work with field “kernel”");
  casement_vm_config_set_initrd (config, NULL);
  casement_vm_config_set_kernel_cmdline (config, "console=ttyS0");
  assert_invalid (config, "only work with field “kernel”");
  casement_vm_config_set_kernel (config, "/boot/vmlinuz");
  assert_valid (config);

  casement_vm_config_set_port_forwards (config, forwards);
  casement_vm_config_set_network (config, CASEMENT_NETWORK_NONE);
  assert_invalid (config, "Field “port_forwards” needs a network");
  casement_vm_config_set_network (config, CASEMENT_NETWORK_USER);
  assert_valid (config);
}

static void
test_vm_config_save_atomic (void)
{
  g_autoptr(CasementVmConfig) config = casement_vm_config_new ("Atomic");
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "vm.json", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto(GStrv) names = NULL;
  struct stat st;

  file = g_file_new_for_path (path);
  g_assert_true (casement_vm_config_save (config, file, &error));
  g_assert_no_error (error);

  casement_vm_config_set_cpus (config, 8);
  g_assert_true (casement_vm_config_save (config, file, &error));
  g_assert_no_error (error);

  /* Replaced in place, private, and no temporary file left beside it. */
  names = list_dir (dir);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "vm.json");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_assert_true (g_file_get_contents (path, &before, NULL, NULL));
  g_assert_nonnull (strstr (before, "\"cpus\" : 8"));

  /* What loading would refuse is never written. */
  casement_vm_config_set_cpus (config, 0);
  g_assert_false (casement_vm_config_save (config, file, &error));
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID);
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);
  g_strfreev (names);
  names = list_dir (dir);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
}

static void
test_vm_config_corrupt_file (void)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *original = NULL;
  g_autofree char *after = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "vm.json", NULL);
  g_auto(GStrv) names = NULL;
  gsize original_length;
  gsize after_length;
  struct stat st_before;
  struct stat st_after;
  const char *source;

  source = g_test_get_filename (G_TEST_DIST, "data", "config", "corrupt.json", NULL);
  g_assert_true (g_file_get_contents (source, &original, &original_length, NULL));
  g_assert_true (g_file_set_contents (path, original, original_length, NULL));
  g_assert_cmpint (g_stat (path, &st_before), ==, 0);

  file = g_file_new_for_path (path);
  config = casement_vm_config_load (file, &error);
  g_assert_null (config);
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_PARSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "The file was left as it is"));

  g_assert_true (g_file_get_contents (path, &after, &after_length, NULL));
  g_assert_cmpmem (original, original_length, after, after_length);
  g_assert_cmpint (g_stat (path, &st_after), ==, 0);
  g_assert_cmpint (st_before.st_ino, ==, st_after.st_ino);
  g_assert_cmpint (st_before.st_mtim.tv_sec, ==, st_after.st_mtim.tv_sec);
  g_assert_cmpint (st_before.st_mtim.tv_nsec, ==, st_after.st_mtim.tv_nsec);

  names = list_dir (dir);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
}

static void
test_vm_config_invalid_file_named (void)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "vm.json", NULL);

  g_assert_true (g_file_set_contents (path, "{\"schema_version\": 1, \"name\": \"x\", \"cpus\": -3}", -1, NULL));
  file = g_file_new_for_path (path);
  config = casement_vm_config_load (file, &error);
  g_assert_error (error, CASEMENT_VM_CONFIG_ERROR, CASEMENT_VM_CONFIG_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "Field “cpus” must be a whole number from 1 to 256, not “-3”"));
}

static void
test_vm_config_load_missing (void)
{
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *dir = make_test_dir ();
  g_autofree char *path = g_build_filename (dir, "absent.json", NULL);

  file = g_file_new_for_path (path);
  config = casement_vm_config_load (file, &error);
  g_assert_null (config);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/Casement/VmConfig/defaults", test_vm_config_defaults);
  g_test_add_func ("/Casement/VmConfig/defaults-by-guest", test_vm_config_defaults_by_guest);
  g_test_add_func ("/Casement/VmConfig/notify", test_vm_config_notify);
  g_test_add_func ("/Casement/VmConfig/round-trip", test_vm_config_round_trip);
  g_test_add_func ("/Casement/VmConfig/golden", test_vm_config_golden);
  g_test_add_func ("/Casement/VmConfig/unknown-members", test_vm_config_unknown_members);
  g_test_add_func ("/Casement/VmConfig/reject", test_vm_config_reject);
  g_test_add_func ("/Casement/VmConfig/reject-product-key-not-shown", test_vm_config_reject_product_key_not_shown);
  g_test_add_func ("/Casement/VmConfig/reject-document", test_vm_config_reject_document);
  g_test_add_func ("/Casement/VmConfig/validate-fields", test_vm_config_validate_fields);
  g_test_add_func ("/Casement/VmConfig/validate-windows-11", test_vm_config_validate_windows_11);
  g_test_add_func ("/Casement/VmConfig/validate-combinations", test_vm_config_validate_combinations);
  g_test_add_func ("/Casement/VmConfig/save-atomic", test_vm_config_save_atomic);
  g_test_add_func ("/Casement/VmConfig/corrupt-file", test_vm_config_corrupt_file);
  g_test_add_func ("/Casement/VmConfig/invalid-file-named", test_vm_config_invalid_file_named);
  g_test_add_func ("/Casement/VmConfig/load-missing", test_vm_config_load_missing);

  return g_test_run ();
}
