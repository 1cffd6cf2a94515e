/* casement-host.c
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

#define G_LOG_DOMAIN "casement-host"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "casement-host.h"
#include "casement-host-private.h"

#define HOST_JSON_VERSION 1

struct _CasementHost
{
  GObject                   parent_instance;

  /* Owned */
  char                     *qemu_path;
  char                     *qemu_img_path;
  char                     *kvm_reason;
  char                     *firmware_code[2];  /* indexed by secure_boot */
  char                     *firmware_vars[2];
  char                     *swtpm_path;
  char                     *virtiofsd_path;
  char                     *smbd_path;
  char                     *userns_reason;
  GHashTable               *cpu_flags;         /* set of char* */
  GHashTable               *devices;           /* set of char* */
  GHashTable               *audiodevs;         /* set of char* */

  guint                     qemu_major;
  guint                     qemu_minor;
  guint                     qemu_micro;
  CasementCpuVendor         cpu_vendor;
  CasementVirtiofsdFlavour  virtiofsd_flavour;
  guint                     cpu_threads;
  guint64                   memory_mib;

  guint                     kvm_usable : 1;
  guint                     pipewire_live : 1;
  guint                     pulse_live : 1;
  guint                     is_root : 1;
  guint                     userns_usable : 1;
};

G_DEFINE_FINAL_TYPE (CasementHost, casement_host, G_TYPE_OBJECT)

G_DEFINE_QUARK (casement-host-error-quark, casement_host_error)

/* Where distributions put OVMF when they ship no firmware descriptors.
 * Secure Boot pairs must have the Microsoft keys enrolled in VARS, so
 * Arch (whose VARS has none) only appears among the plain pairs. */
static const char * const known_secure_boot_firmware[][2] = {
  { "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
  { "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd" },
  { "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd" },
  { "/usr/share/qemu/ovmf-x86_64-ms-4m-code.bin", "/usr/share/qemu/ovmf-x86_64-ms-4m-vars.bin" },
};

static const char * const known_plain_firmware[][2] = {
  { "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd" },
  { "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
  { "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd" },
  { "/usr/share/edk2/x64/OVMF_CODE.4m.fd", "/usr/share/edk2/x64/OVMF_VARS.4m.fd" },
  { "/usr/share/edk2-ovmf/x64/OVMF_CODE.fd", "/usr/share/edk2-ovmf/x64/OVMF_VARS.fd" },
  { "/usr/share/qemu/ovmf-x86_64-4m-code.bin", "/usr/share/qemu/ovmf-x86_64-4m-vars.bin" },
};

/* Newer than the C helper's location, so a Rust virtiofsd installed next
 * to QEMU 7.2's C one is preferred. */
static const char * const known_virtiofsd_paths[] = {
  "/usr/libexec/virtiofsd",
  "/usr/lib/virtiofsd",
  "/usr/lib/qemu/virtiofsd",
};

static void
casement_host_finalize (GObject *object)
{
  CasementHost *self = (CasementHost *)object;

  g_clear_pointer (&self->qemu_path, g_free);
  g_clear_pointer (&self->qemu_img_path, g_free);
  g_clear_pointer (&self->kvm_reason, g_free);
  for (guint i = 0; i < G_N_ELEMENTS (self->firmware_code); i++)
    {
      g_clear_pointer (&self->firmware_code[i], g_free);
      g_clear_pointer (&self->firmware_vars[i], g_free);
    }
  g_clear_pointer (&self->swtpm_path, g_free);
  g_clear_pointer (&self->virtiofsd_path, g_free);
  g_clear_pointer (&self->smbd_path, g_free);
  g_clear_pointer (&self->userns_reason, g_free);
  g_clear_pointer (&self->cpu_flags, g_hash_table_unref);
  g_clear_pointer (&self->devices, g_hash_table_unref);
  g_clear_pointer (&self->audiodevs, g_hash_table_unref);

  G_OBJECT_CLASS (casement_host_parent_class)->finalize (object);
}

static void
casement_host_class_init (CasementHostClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = casement_host_finalize;
}

static void
casement_host_init (CasementHost *self)
{
  self->cpu_flags = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->audiodevs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static void
add_all (GHashTable *set,
         char      **names)
{
  g_assert (set != NULL);

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    g_hash_table_add (set, g_strdup (names[i]));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* Sorted, so the JSON of two probes of one machine is the same text. */
static char **
set_to_sorted_strv (GHashTable *set)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_assert (set != NULL);

  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return (char **)g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static char **
ptr_array_to_sorted_strv (GPtrArray *names)
{
  g_assert (names != NULL);

  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return (char **)g_ptr_array_free (names, FALSE);
}

/* Parsers */

gboolean
_casement_host_parse_qemu_version (const char *output,
                                   guint      *major,
                                   guint      *minor,
                                   guint      *micro)
{
  const char *p;
  guint v[3] = { 0, 0, 0 };
  int n;

  g_return_val_if_fail (output != NULL, FALSE);

  /* "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" */
  p = strstr (output, "version ");
  if (p == NULL)
    return FALSE;

  n = sscanf (p + strlen ("version "), "%u.%u.%u", &v[0], &v[1], &v[2]);
  if (n < 2)
    return FALSE;

  if (major != NULL)
    *major = v[0];
  if (minor != NULL)
    *minor = v[1];
  if (micro != NULL)
    *micro = v[2];

  return TRUE;
}

/* "key\t\t: value" → value, or NULL when @line is not about @key. */
static const char *
cpuinfo_value (const char *line,
               const char *key)
{
  gsize len = strlen (key);
  const char *p;

  g_assert (line != NULL);
  g_assert (key != NULL);

  if (strncmp (line, key, len) != 0)
    return NULL;

  p = line + len;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p != ':')
    return NULL;
  p++;
  while (*p == ' ' || *p == '\t')
    p++;

  return p;
}

void
_casement_host_parse_cpuinfo (const char          *cpuinfo,
                              CasementCpuVendor   *vendor,
                              char              ***flags,
                              guint               *threads)
{
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) flag_list = g_ptr_array_new_with_free_func (g_free);
  CasementCpuVendor found_vendor = CASEMENT_CPU_VENDOR_UNKNOWN;
  gboolean have_flags = FALSE;
  gboolean have_vendor = FALSE;
  guint processors = 0;

  g_return_if_fail (cpuinfo != NULL);

  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *value;

      if (cpuinfo_value (lines[i], "processor") != NULL)
        {
          processors++;
        }
      else if (!have_vendor && (value = cpuinfo_value (lines[i], "vendor_id")) != NULL)
        {
          have_vendor = TRUE;
          if (g_str_has_prefix (value, "GenuineIntel"))
            found_vendor = CASEMENT_CPU_VENDOR_INTEL;
          /* Hygon's Dhyana is an AMD Zen licence: same svm and avic. */
          else if (g_str_has_prefix (value, "AuthenticAMD") ||
                   g_str_has_prefix (value, "HygonGenuine"))
            found_vendor = CASEMENT_CPU_VENDOR_AMD;
        }
      else if (!have_flags && (value = cpuinfo_value (lines[i], "flags")) != NULL)
        {
          g_auto(GStrv) words = g_strsplit_set (value, " \t", -1);

          have_flags = TRUE;
          for (guint j = 0; words[j] != NULL; j++)
            {
              if (words[j][0] != '\0')
                g_ptr_array_add (flag_list, g_strdup (words[j]));
            }
        }
    }

  if (vendor != NULL)
    *vendor = found_vendor;
  if (threads != NULL)
    *threads = processors;
  if (flags != NULL)
    *flags = ptr_array_to_sorted_strv (g_steal_pointer (&flag_list));
}

guint64
_casement_host_parse_meminfo (const char *meminfo)
{
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (meminfo != NULL, 0);

  lines = g_strsplit (meminfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *value = cpuinfo_value (lines[i], "MemTotal");

      /* "MemTotal:       16303232 kB" */
      if (value != NULL)
        return g_ascii_strtoull (value, NULL, 10) / 1024;
    }

  return 0;
}

char **
_casement_host_parse_device_help (const char *output)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (output != NULL, NULL);

  /* name "virtio-blk-pci", bus PCI, alias "virtio-blk" */
  lines = g_strsplit (output, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *start;
      const char *end;

      if (!g_str_has_prefix (lines[i], "name \""))
        continue;

      start = lines[i] + strlen ("name \"");
      end = strchr (start, '"');
      if (end != NULL && end > start)
        g_ptr_array_add (names, g_strndup (start, end - start));
    }

  return ptr_array_to_sorted_strv (g_steal_pointer (&names));
}

char **
_casement_host_parse_audiodev_help (const char *output)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = NULL;
  gboolean in_list = FALSE;

  g_return_val_if_fail (output != NULL, NULL);

  /* "Available audio drivers:" then one driver per line. */
  lines = g_strsplit (output, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));

      if (g_str_has_prefix (line, "Available audio drivers"))
        {
          in_list = TRUE;
          continue;
        }

      if (!in_list || line[0] == '\0' || strpbrk (line, " :\t") != NULL)
        continue;

      g_ptr_array_add (names, g_steal_pointer (&line));
    }

  return ptr_array_to_sorted_strv (g_steal_pointer (&names));
}

CasementVirtiofsdFlavour
_casement_host_parse_virtiofsd_help (const char *help)
{
  g_return_val_if_fail (help != NULL, CASEMENT_VIRTIOFSD_NONE);

  if (strstr (help, "--shared-dir") != NULL)
    return CASEMENT_VIRTIOFSD_RUST;

  /* QEMU's C helper documents "-o source=PATH" */
  if (strstr (help, "source=") != NULL)
    return CASEMENT_VIRTIOFSD_LEGACY_C;

  return CASEMENT_VIRTIOFSD_NONE;
}

/* Firmware descriptors */

static char *
under_sysroot (const char *sysroot,
               const char *path)
{
  g_assert (path != NULL);

  if (sysroot == NULL || g_str_equal (sysroot, "/"))
    return g_strdup (path);

  return g_build_filename (sysroot, path, NULL);
}

static gboolean
json_array_has_string (JsonObject *object,
                       const char *member,
                       const char *value)
{
  JsonArray *array;

  g_assert (object != NULL);

  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, member)))
    return FALSE;

  array = json_object_get_array_member (object, member);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING &&
          g_str_equal (json_node_get_string (node), value))
        return TRUE;
    }

  return FALSE;
}

static const char *
json_object_lookup_string (JsonObject *object,
                      const char *first,
                      ...) G_GNUC_NULL_TERMINATED;

/* The string at a chain of member names, or NULL when any is missing. */
static const char *
json_object_lookup_string (JsonObject *object,
                      const char *first,
                      ...)
{
  const char *member = first;
  const char *result = NULL;
  va_list args;

  g_assert (object != NULL);

  va_start (args, first);
  while (member != NULL)
    {
      const char *next = va_arg (args, const char *);
      JsonNode *node;

      if (object == NULL || !json_object_has_member (object, member))
        break;

      node = json_object_get_member (object, member);
      if (next == NULL)
        {
          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            result = json_node_get_string (node);
          break;
        }

      object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      member = next;
    }
  va_end (args);

  return result;
}

static gboolean
descriptor_targets_q35 (JsonObject *descriptor)
{
  JsonArray *targets;

  g_assert (descriptor != NULL);

  if (!json_object_has_member (descriptor, "targets") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (descriptor, "targets")))
    return FALSE;

  targets = json_object_get_array_member (descriptor, "targets");
  for (guint i = 0; i < json_array_get_length (targets); i++)
    {
      JsonNode *node = json_array_get_element (targets, i);
      JsonObject *target;
      JsonArray *machines;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      target = json_node_get_object (node);
      if (g_strcmp0 (json_object_lookup_string (target, "architecture", NULL), "x86_64") != 0 ||
          !json_object_has_member (target, "machines") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (target, "machines")))
        continue;

      /* Machines are globs such as "pc-q35-*". `-machine q35` means the
       * newest q35 of whichever QEMU runs, so only a glob that takes any
       * q35 version will do. */
      machines = json_object_get_array_member (target, "machines");
      for (guint j = 0; j < json_array_get_length (machines); j++)
        {
          JsonNode *machine = json_array_get_element (machines, j);

          if (JSON_NODE_HOLDS_VALUE (machine) &&
              json_node_get_value_type (machine) == G_TYPE_STRING &&
              g_pattern_match_simple (json_node_get_string (machine), "pc-q35-"))
            return TRUE;
        }
    }

  return FALSE;
}

/* TRUE when @path describes the firmware we want; @code and @vars (out)
 * then hold its files (below @sysroot, existing). */
static gboolean
descriptor_matches (const char  *sysroot,
                    const char  *path,
                    gboolean     secure_boot,
                    char       **code,
                    char       **vars)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *code_path = NULL;
  g_autofree char *vars_path = NULL;
  JsonObject *descriptor;
  const char *mode;
  const char *code_name;
  const char *vars_name;

  g_assert (path != NULL);
  g_assert (code != NULL && vars != NULL);

  if (!json_parser_load_from_file (parser, path, &error))
    {
      g_debug ("Skipping firmware descriptor %s: %s", path, error->message);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  descriptor = json_node_get_object (json_parser_get_root (parser));

  if (!json_array_has_string (descriptor, "interface-types", "uefi") ||
      !descriptor_targets_q35 (descriptor))
    return FALSE;

  /* Only split CODE + VARS on pflash, both raw: that is what the argv uses
   * and what qemu-img converts into the per-VM efivars.qcow2. */
  mode = json_object_lookup_string (descriptor, "mapping", "mode", NULL);
  code_name = json_object_lookup_string (descriptor, "mapping", "executable", "filename", NULL);
  vars_name = json_object_lookup_string (descriptor, "mapping", "nvram-template", "filename", NULL);
  if (g_strcmp0 (json_object_lookup_string (descriptor, "mapping", "device", NULL), "flash") != 0 ||
      (mode != NULL && !g_str_equal (mode, "split")) ||
      code_name == NULL || vars_name == NULL ||
      g_strcmp0 (json_object_lookup_string (descriptor, "mapping", "executable", "format", NULL),
                 "raw") != 0 ||
      g_strcmp0 (json_object_lookup_string (descriptor, "mapping", "nvram-template", "format", NULL),
                 "raw") != 0)
    return FALSE;

  if (secure_boot)
    {
      if (!json_array_has_string (descriptor, "features", "secure-boot") ||
          !json_array_has_string (descriptor, "features", "enrolled-keys") ||
          !json_array_has_string (descriptor, "features", "requires-smm"))
        return FALSE;
    }
  else if (json_array_has_string (descriptor, "features", "secure-boot"))
    {
      return FALSE;
    }

  code_path = under_sysroot (sysroot, code_name);
  vars_path = under_sysroot (sysroot, vars_name);
  if (!g_file_test (code_path, G_FILE_TEST_IS_REGULAR) ||
      !g_file_test (vars_path, G_FILE_TEST_IS_REGULAR))
    {
      g_debug ("Skipping firmware descriptor %s: its files are missing", path);
      return FALSE;
    }

  *code = g_steal_pointer (&code_path);
  *vars = g_steal_pointer (&vars_path);

  return TRUE;
}

gboolean
_casement_host_find_firmware (const char          *sysroot,
                              const char * const  *descriptor_dirs,
                              gboolean             known_paths_fallback,
                              gboolean             secure_boot,
                              char               **code,
                              char               **vars)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree const char **names = NULL;
  guint n_names = 0;

  g_return_val_if_fail (code != NULL, FALSE);
  g_return_val_if_fail (vars != NULL, FALSE);

  *code = NULL;
  *vars = NULL;

  for (guint i = 0; descriptor_dirs != NULL && descriptor_dirs[i] != NULL; i++)
    {
      g_autofree char *dir_path = under_sysroot (sysroot, descriptor_dirs[i]);
      g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
      const char *name;

      if (dir == NULL)
        continue;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          if (g_str_has_suffix (name, ".json"))
            g_hash_table_insert (by_name, g_strdup (name), g_build_filename (dir_path, name, NULL));
        }
    }

  names = (const char **)g_hash_table_get_keys_as_array (by_name, &n_names);
  qsort (names, n_names, sizeof (char *), compare_strings);

  for (guint i = 0; i < n_names; i++)
    {
      const char *path = g_hash_table_lookup (by_name, names[i]);
      GStatBuf st;

      /* An empty file masks the descriptor of that name in earlier folders. */
      if (g_stat (path, &st) != 0 || st.st_size == 0)
        continue;

      if (descriptor_matches (sysroot, path, secure_boot, code, vars))
        return TRUE;
    }

  if (known_paths_fallback)
    {
      const char * const (*pairs)[2] = secure_boot ? known_secure_boot_firmware : known_plain_firmware;
      gsize n_pairs = secure_boot ? G_N_ELEMENTS (known_secure_boot_firmware) : G_N_ELEMENTS (known_plain_firmware);

      for (gsize i = 0; i < n_pairs; i++)
        {
          g_autofree char *code_path = under_sysroot (sysroot, pairs[i][0]);
          g_autofree char *vars_path = under_sysroot (sysroot, pairs[i][1]);

          if (g_file_test (code_path, G_FILE_TEST_IS_REGULAR) &&
              g_file_test (vars_path, G_FILE_TEST_IS_REGULAR))
            {
              *code = g_steal_pointer (&code_path);
              *vars = g_steal_pointer (&vars_path);
              return TRUE;
            }
        }
    }

  return FALSE;
}

/* Live checks */

gboolean
_casement_host_check_kvm (const char          *device,
                          const char * const  *cpu_flags,
                          char               **reason)
{
  int fd;
  int vm_fd;

  g_return_val_if_fail (device != NULL, FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);

  *reason = NULL;

  fd = open (device, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;

      if (errsv == ENOENT)
        *reason = g_strdup_printf (_("%s does not exist: load the kvm_intel or kvm_amd kernel module, "
                                     "and turn on hardware virtualization (VT-x or AMD-V) in the firmware settings"),
                                   device);
      else
        *reason = g_strdup_printf (_("%s cannot be opened for reading and writing (%s): "
                                     "add your user to the “kvm” group and log in again"),
                                   device, g_strerror (errsv));
      return FALSE;
    }

  /* A node can open and still refuse to make a VM (another hypervisor
   * holds VT-x, or the module loaded without hardware support). */
  vm_fd = ioctl (fd, KVM_CREATE_VM, 0);
  if (vm_fd < 0)
    {
      int errsv = errno;

      close (fd);
      *reason = g_strdup_printf (_("%s opens, but creating a virtual machine on it (KVM_CREATE_VM) fails (%s): "
                                   "another hypervisor may be holding hardware virtualization, "
                                   "or it is turned off in the firmware settings"),
                                 device, g_strerror (errsv));
      return FALSE;
    }
  close (vm_fd);
  close (fd);

  /* Seen on nested hosts: KVM_CREATE_VM succeeds, then the guest dies
   * with "KVM internal error" because vmx/svm is not really there. */
  if (cpu_flags == NULL ||
      (!g_strv_contains (cpu_flags, "vmx") && !g_strv_contains (cpu_flags, "svm")))
    {
      *reason = g_strdup_printf (_("%s opens, but the CPU flags in /proc/cpuinfo show neither vmx nor svm: "
                                   "hardware virtualization is off in the firmware settings, "
                                   "or this machine is itself a virtual machine without nested virtualization"),
                                 device);
      return FALSE;
    }

  return TRUE;
}

gboolean
_casement_host_socket_is_live (const char *path)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return FALSE;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  if (socket == NULL)
    return FALSE;

  /* A server that stopped leaves its socket file behind; only a
   * connection proves someone listens. */
  g_socket_set_timeout (socket, 2);
  address = g_unix_socket_address_new (path);
  if (!g_socket_connect (socket, address, NULL, &error))
    {
      g_debug ("Nothing answers at %s: %s", path, error->message);
      return FALSE;
    }

  g_socket_close (socket, NULL);

  return TRUE;
}

/* Runs @argv and returns its standard output; both streams are read so a
 * chatty stderr (QEMU's module warnings) cannot block it. */
static char *
run_for_output (const char * const  *argv,
                GCancellable        *cancellable,
                GError             **error)
{
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert (argv != NULL && argv[0] != NULL);

  subprocess = g_subprocess_newv (argv,
                                  G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                  error);
  if (subprocess == NULL)
    return NULL;

  if (!g_subprocess_communicate_utf8 (subprocess, NULL, cancellable, &out, &err, error))
    {
      g_subprocess_force_exit (subprocess);
      return NULL;
    }

  if (!g_subprocess_get_if_exited (subprocess) || g_subprocess_get_exit_status (subprocess) != 0)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "%s %s failed: %s", argv[0], argv[1] != NULL ? argv[1] : "",
                   err != NULL ? g_strstrip (err) : "");
      return NULL;
    }

  return g_steal_pointer (&out);
}

/* User namespaces for the C virtiofsd */

/* The syscall filter below names setgroups() by its number, which is only
 * meaningful together with the architecture (and on 32-bit ones glibc
 * uses setgroups32()). */
#if defined(__x86_64__)
# define NATIVE_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
# define NATIVE_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define NATIVE_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__s390x__)
# define NATIVE_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__riscv) && __riscv_xlen == 64
# define NATIVE_AUDIT_ARCH AUDIT_ARCH_RISCV64
#endif

void
_casement_host_userns_init (CasementUserns *userns)
{
  g_return_if_fail (userns != NULL);

  g_snprintf (userns->uid_map, sizeof userns->uid_map, "0 %u 1", (guint) getuid ());
  g_snprintf (userns->gid_map, sizeof userns->gid_map, "0 %u 1", (guint) getgid ());
}

static gboolean
write_proc_file (const char *path,
                 const char *contents)
{
  gsize len = strlen (contents);
  ssize_t written;
  int fd;

  if ((fd = open (path, O_WRONLY | O_CLOEXEC)) < 0)
    return FALSE;

  do
    written = write (fd, contents, len);
  while (written < 0 && errno == EINTR);

  if (written != (ssize_t) len)
    {
      int errsv = written < 0 ? errno : EIO;

      close (fd);
      errno = errsv;
      return FALSE;
    }

  return close (fd) == 0;
}

/* Async-signal-safe: runs between fork() and exec(). */
gboolean
_casement_host_setgroups_noop (void)
{
#ifdef NATIVE_AUDIT_ARCH
  /* The groups the program keeps are the user's own, which any of the
   * user's programs has: nothing is gained by it. */
  static struct sock_filter setgroups_noop[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, NATIVE_AUDIT_ARCH, 1, 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_setgroups, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  static struct sock_fprog program = {
    .len = G_N_ELEMENTS (setgroups_noop),
    .filter = setgroups_noop,
  };

  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
#else
  errno = ENOSYS;
  return FALSE;
#endif
}

static void
setgroups_noop_child_setup (gpointer user_data)
{
  /* When it fails, the program says why itself. */
  _casement_host_setgroups_noop ();
}

/* Async-signal-safe: runs between fork() and exec(). */
const char *
_casement_host_userns_enter (const CasementUserns *userns)
{
  if (unshare (CLONE_NEWUSER | CLONE_NEWNS) != 0)
    return "unshare(CLONE_NEWUSER)";
  if (!write_proc_file ("/proc/self/setgroups", "deny"))
    return "/proc/self/setgroups";
  if (!write_proc_file ("/proc/self/uid_map", userns->uid_map))
    return "/proc/self/uid_map";
  if (!write_proc_file ("/proc/self/gid_map", userns->gid_map))
    return "/proc/self/gid_map";
  if (!_casement_host_setgroups_noop ())
    return "a seccomp filter for setgroups()";

  return NULL;
}

/* A sysctl that says no, as a sentence; NULL when none does. */
static char *
dup_userns_sysctl_reason (void)
{
  static const struct {
    const char *path;
    const char *name;
    const char *forbidding;
  } sysctls[] = {
    { "/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", "0" },
    { "/proc/sys/user/max_user_namespaces", "user.max_user_namespaces", "0" },
    { "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "kernel.apparmor_restrict_unprivileged_userns", "1" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (sysctls); i++)
    {
      g_autofree char *value = NULL;

      if (g_file_get_contents (sysctls[i].path, &value, NULL, NULL) &&
          g_str_equal (g_strstrip (value), sysctls[i].forbidding))
        return g_strdup_printf (_("the system forbids it (%s is %s)"), sysctls[i].name, value);
    }

  return NULL;
}

gboolean
_casement_host_check_user_namespaces (char **reason)
{
  CasementUserns userns;
  char report[128] = { 0 };
  gssize n;
  int fds[2];
  int status = 0;
  int errsv = 0;
  pid_t pid;

  g_return_val_if_fail (reason != NULL && *reason == NULL, FALSE);

  _casement_host_userns_init (&userns);

  if (pipe2 (fds, O_CLOEXEC) != 0)
    {
      *reason = g_strdup_printf ("pipe2: %s", g_strerror (errno));
      return FALSE;
    }

  /* unshare(CLONE_NEWUSER) needs a single-threaded process: a child. */
  if ((pid = fork ()) == 0)
    {
      const char *step = _casement_host_userns_enter (&userns);

      if (step == NULL && setgroups (0, NULL) != 0)
        step = "setgroups()";
      /* What virtiofsd's own sandbox does in there; a security module
       * may leave a user namespace without the powers for it. */
      if (step == NULL && unshare (CLONE_NEWPID | CLONE_NEWNET) != 0)
        step = "unshare(CLONE_NEWPID | CLONE_NEWNET)";
      if (step == NULL && mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
        step = "mount(/, MS_REC | MS_SLAVE)";

      if (step != NULL)
        {
          int child_errno = errno;
          gsize len = MIN (strlen (step), sizeof report - sizeof child_errno - 1);

          /* One write: it reaches the pipe whole. */
          memcpy (report, &child_errno, sizeof child_errno);
          memcpy (report + sizeof child_errno, step, len);
          _exit (write (fds[1], report, sizeof child_errno + len) < 0 ? 2 : 1);
        }
      _exit (0);
    }

  close (fds[1]);
  if (pid < 0)
    {
      errsv = errno;
      close (fds[0]);
      *reason = g_strdup_printf ("fork: %s", g_strerror (errsv));
      return FALSE;
    }

  do
    n = read (fds[0], report, sizeof report - 1);
  while (n < 0 && errno == EINTR);
  close (fds[0]);

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;

  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return TRUE;

  if ((*reason = dup_userns_sysctl_reason ()) != NULL)
    return FALSE;

  if (n >= (gssize) sizeof errsv)
    {
      memcpy (&errsv, report, sizeof errsv);
      *reason = g_strdup_printf (_("%s failed: %s"), report + sizeof errsv, g_strerror (errsv));
    }
  else
    {
      *reason = g_strdup (_("the test process failed"));
    }

  return FALSE;
}

CasementVirtiofsdFlavour
_casement_host_probe_virtiofsd (const char   *path,
                                GCancellable *cancellable)
{
  const char * const argv[] = { path, "--help", NULL };
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *both = NULL;

  g_return_val_if_fail (path != NULL, CASEMENT_VIRTIOFSD_NONE);

  /* Some builds print --help on stderr or exit non-zero after it, so the
   * text decides, not the exit status. The C helper drops supplementary
   * groups before it even reads its options, which fails for a user who
   * has some. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, setgroups_noop_child_setup, NULL, NULL);
  subprocess = g_subprocess_launcher_spawnv (launcher, argv, &error);
  if (subprocess == NULL)
    {
      g_debug ("Cannot ask %s for its flavour: %s", path, error->message);
      return CASEMENT_VIRTIOFSD_NONE;
    }

  if (!g_subprocess_communicate_utf8 (subprocess, NULL, cancellable, &out, &err, &error))
    {
      g_debug ("Cannot ask %s for its flavour: %s", path, error->message);
      g_subprocess_force_exit (subprocess);
      return CASEMENT_VIRTIOFSD_NONE;
    }

  both = g_strconcat (out != NULL ? out : "", "\n", err != NULL ? err : "", NULL);

  return _casement_host_parse_virtiofsd_help (both);
}

static char *
find_executable (const char *env_name,
                 const char *program,
                 gboolean   *overridden)
{
  const char *value = env_name != NULL ? g_getenv (env_name) : NULL;

  g_assert (program != NULL);

  *overridden = value != NULL;

  /* Set but empty means "pretend it is absent", for tests and users. */
  if (value != NULL)
    {
      if (value[0] == '\0')
        return NULL;
      if (g_path_is_absolute (value))
        return g_file_test (value, G_FILE_TEST_IS_EXECUTABLE) ? g_strdup (value) : NULL;
      return g_find_program_in_path (value);
    }

  return g_find_program_in_path (program);
}

static void
probe_virtiofsd (CasementHost *self,
                 GCancellable *cancellable)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *legacy = NULL;
  gboolean overridden;
  char *path;

  g_assert (CASEMENT_IS_HOST (self));

  path = find_executable ("CASEMENT_VIRTIOFSD", "virtiofsd", &overridden);
  if (path != NULL)
    g_ptr_array_add (candidates, path);

  if (!overridden)
    {
      for (guint i = 0; i < G_N_ELEMENTS (known_virtiofsd_paths); i++)
        {
          if (g_file_test (known_virtiofsd_paths[i], G_FILE_TEST_IS_EXECUTABLE))
            g_ptr_array_add (candidates, g_strdup (known_virtiofsd_paths[i]));
        }
    }

  /* The Rust one wins wherever it is: it runs without root. */
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *candidate = g_ptr_array_index (candidates, i);
      CasementVirtiofsdFlavour flavour = _casement_host_probe_virtiofsd (candidate, cancellable);

      if (flavour == CASEMENT_VIRTIOFSD_RUST)
        {
          self->virtiofsd_path = g_strdup (candidate);
          self->virtiofsd_flavour = flavour;
          return;
        }

      if (flavour == CASEMENT_VIRTIOFSD_LEGACY_C && legacy == NULL)
        legacy = g_strdup (candidate);
    }

  if (legacy != NULL)
    {
      self->virtiofsd_path = g_steal_pointer (&legacy);
      self->virtiofsd_flavour = CASEMENT_VIRTIOFSD_LEGACY_C;
    }
}

/* `qemu-system-x86_64 @option help` */
static char *
run_qemu_help (CasementHost  *self,
               const char    *option,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  char *output;

  g_assert (CASEMENT_IS_HOST (self));

  output = run_for_output ((const char * const []) { self->qemu_path, option, "help", NULL },
                           cancellable, &local_error);
  if (output != NULL)
    return output;

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_steal_pointer (&local_error));
  else
    g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU,
                 _("%s does not work as QEMU (“%s help” failed: %s): "
                   "reinstall the qemu-system-x86 package"),
                 self->qemu_path, option, local_error->message);

  return NULL;
}

static gboolean
probe_qemu (CasementHost  *self,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *version = NULL;
  g_autofree char *devices = NULL;
  g_autofree char *audiodevs = NULL;
  g_autofree char *qemu_dir = NULL;
  g_autofree char *img_beside = NULL;
  g_auto(GStrv) device_names = NULL;
  g_auto(GStrv) audiodev_names = NULL;
  gboolean overridden;

  g_assert (CASEMENT_IS_HOST (self));

  self->qemu_path = find_executable ("CASEMENT_QEMU", "qemu-system-x86_64", &overridden);
  if (self->qemu_path == NULL)
    {
      if (overridden)
        g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU,
                     _("The QEMU named by CASEMENT_QEMU (“%s”) is not an executable program: "
                       "correct or unset CASEMENT_QEMU"),
                     g_getenv ("CASEMENT_QEMU"));
      else
        g_set_error_literal (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU,
                             _("QEMU (qemu-system-x86_64) was not found: "
                               "install the qemu-system-x86 package"));
      return FALSE;
    }

  version = run_for_output ((const char * const []) { self->qemu_path, "-version", NULL },
                            cancellable, &local_error);
  if (version == NULL ||
      !_casement_host_parse_qemu_version (version, &self->qemu_major, &self->qemu_minor, &self->qemu_micro))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_NO_QEMU,
                   _("%s does not work as QEMU (“-version” gave no version: %s): "
                     "reinstall the qemu-system-x86 package"),
                   self->qemu_path, local_error != NULL ? local_error->message : version);
      return FALSE;
    }

  if (!(devices = run_qemu_help (self, "-device", cancellable, error)) ||
      !(audiodevs = run_qemu_help (self, "-audiodev", cancellable, error)))
    return FALSE;

  device_names = _casement_host_parse_device_help (devices);
  add_all (self->devices, device_names);
  audiodev_names = _casement_host_parse_audiodev_help (audiodevs);
  add_all (self->audiodevs, audiodev_names);

  /* qemu-img from the same installation first, so versions agree. */
  qemu_dir = g_path_get_dirname (self->qemu_path);
  img_beside = g_build_filename (qemu_dir, "qemu-img", NULL);
  if (g_file_test (img_beside, G_FILE_TEST_IS_EXECUTABLE))
    self->qemu_img_path = g_steal_pointer (&img_beside);
  else
    self->qemu_img_path = g_find_program_in_path ("qemu-img");

  return TRUE;
}

static void
probe_cpu_and_memory (CasementHost *self)
{
  g_autofree char *cpuinfo = NULL;
  g_autofree char *meminfo = NULL;
  g_auto(GStrv) flags = NULL;

  g_assert (CASEMENT_IS_HOST (self));

  if (g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    {
      _casement_host_parse_cpuinfo (cpuinfo, &self->cpu_vendor, &flags, &self->cpu_threads);
      add_all (self->cpu_flags, flags);
    }
  if (self->cpu_threads == 0)
    self->cpu_threads = g_get_num_processors ();

  if (g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    self->memory_mib = _casement_host_parse_meminfo (meminfo);

  self->kvm_usable = _casement_host_check_kvm ("/dev/kvm", (const char * const *)flags, &self->kvm_reason);
}

static void
probe_firmware (CasementHost *self)
{
  const char *override = g_getenv ("CASEMENT_FIRMWARE_DIR");
  g_autofree char *user_dir = g_build_filename (g_get_user_config_dir (), "qemu", "firmware", NULL);

  g_assert (CASEMENT_IS_HOST (self));

  for (guint secure_boot = 0; secure_boot < 2; secure_boot++)
    {
      /* The override pins the choice: no fallback behind it. */
      if (override != NULL)
        {
          const char * const dirs[] = { override, NULL };

          _casement_host_find_firmware (NULL, dirs, FALSE, secure_boot,
                                        &self->firmware_code[secure_boot],
                                        &self->firmware_vars[secure_boot]);
        }
      else
        {
          const char * const dirs[] = { "/usr/share/qemu/firmware", "/etc/qemu/firmware", user_dir, NULL };

          _casement_host_find_firmware ("/", dirs, TRUE, secure_boot,
                                        &self->firmware_code[secure_boot],
                                        &self->firmware_vars[secure_boot]);
        }
    }
}

static void
probe_sound_servers (CasementHost *self)
{
  const char *runtime_dir = g_getenv ("XDG_RUNTIME_DIR");
  g_autofree char *pipewire = NULL;
  g_autofree char *pulse = NULL;

  g_assert (CASEMENT_IS_HOST (self));

  /* Without XDG_RUNTIME_DIR there is no session, hence no sound server. */
  if (runtime_dir == NULL || runtime_dir[0] == '\0')
    return;

  pipewire = g_build_filename (runtime_dir, "pipewire-0", NULL);
  pulse = g_build_filename (runtime_dir, "pulse", "native", NULL);
  self->pipewire_live = _casement_host_socket_is_live (pipewire);
  self->pulse_live = _casement_host_socket_is_live (pulse);
}

/**
 * casement_host_probe:
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Looks at this machine: QEMU and what it can do, KVM, CPU, memory,
 * firmware, swtpm, virtiofsd, smbd and the sound server. Runs
 * subprocesses: call it from a worker thread, or use the async variant.
 *
 * Returns: (transfer full): a new #CasementHost, or %NULL when QEMU is
 *   missing or broken
 */
CasementHost *
casement_host_probe (GCancellable  *cancellable,
                     GError       **error)
{
  g_autoptr(CasementHost) self = NULL;
  gboolean overridden;

  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (CASEMENT_TYPE_HOST, NULL);

  if (!probe_qemu (self, cancellable, error))
    return NULL;

  probe_cpu_and_memory (self);
  probe_firmware (self);
  probe_sound_servers (self);

  self->swtpm_path = find_executable ("CASEMENT_SWTPM", "swtpm", &overridden);
  probe_virtiofsd (self, cancellable);

  /* QEMU runs the smbd it was built with (/usr/sbin/smbd on Debian and
   * Fedora), which a user's PATH often lacks. */
  self->smbd_path = g_find_program_in_path ("smbd");
  if (self->smbd_path == NULL && g_file_test ("/usr/sbin/smbd", G_FILE_TEST_IS_EXECUTABLE))
    self->smbd_path = g_strdup ("/usr/sbin/smbd");

  self->is_root = geteuid () == 0;
  self->userns_usable = _casement_host_check_user_namespaces (&self->userns_reason);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return g_steal_pointer (&self);
}

static void
casement_host_probe_worker (GTask        *task,
                            gpointer      source_object,
                            gpointer      task_data,
                            GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  CasementHost *host;

  g_assert (G_IS_TASK (task));

  host = casement_host_probe (cancellable, &error);
  if (host == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, host, g_object_unref);
}

/**
 * casement_host_probe_async:
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the probe is done
 * @user_data: data for @callback
 *
 * Runs casement_host_probe() in a worker thread.
 */
void
casement_host_probe_async (GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_host_probe_async);
  g_task_run_in_thread (task, casement_host_probe_worker);
}

/**
 * casement_host_probe_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the probed #CasementHost, or %NULL on error
 */
CasementHost *
casement_host_probe_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == casement_host_probe_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* JSON */

static const char *
vendor_to_string (CasementCpuVendor vendor)
{
  switch (vendor)
    {
    case CASEMENT_CPU_VENDOR_INTEL:
      return "intel";
    case CASEMENT_CPU_VENDOR_AMD:
      return "amd";
    case CASEMENT_CPU_VENDOR_UNKNOWN:
    default:
      return "unknown";
    }
}

static const char *
flavour_to_string (CasementVirtiofsdFlavour flavour)
{
  switch (flavour)
    {
    case CASEMENT_VIRTIOFSD_RUST:
      return "rust";
    case CASEMENT_VIRTIOFSD_LEGACY_C:
      return "legacy-c";
    case CASEMENT_VIRTIOFSD_NONE:
    default:
      return "none";
    }
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  g_assert (JSON_IS_BUILDER (builder));

  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_set (JsonBuilder *builder,
         const char  *name,
         GHashTable  *set)
{
  g_auto(GStrv) names = set_to_sorted_strv (set);

  g_assert (JSON_IS_BUILDER (builder));

  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; names[i] != NULL; i++)
    json_builder_add_string_value (builder, names[i]);
  json_builder_end_array (builder);
}

static void
add_firmware (JsonBuilder *builder,
              const char  *name,
              const char  *code,
              const char  *vars)
{
  g_assert (JSON_IS_BUILDER (builder));

  json_builder_set_member_name (builder, name);
  if (code == NULL || vars == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }

  json_builder_begin_object (builder);
  add_string_or_null (builder, "code", code);
  add_string_or_null (builder, "vars", vars);
  json_builder_end_object (builder);
}

/**
 * casement_host_to_json:
 * @self: a #CasementHost
 *
 * Writes what the probe found, so it can be kept as a test fixture or
 * shown by `casementctl host --json`.
 *
 * Returns: (transfer full): pretty-printed JSON
 */
char *
casement_host_to_json (CasementHost *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *version = NULL;

  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  version = g_strdup_printf ("%u.%u.%u", self->qemu_major, self->qemu_minor, self->qemu_micro);

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HOST_JSON_VERSION);

  json_builder_set_member_name (builder, "qemu");
  json_builder_begin_object (builder);
  add_string_or_null (builder, "path", self->qemu_path);
  add_string_or_null (builder, "version", version);
  add_string_or_null (builder, "img-path", self->qemu_img_path);
  add_set (builder, "devices", self->devices);
  add_set (builder, "audiodevs", self->audiodevs);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "kvm");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "usable");
  json_builder_add_boolean_value (builder, self->kvm_usable);
  add_string_or_null (builder, "reason", self->kvm_reason);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "cpu");
  json_builder_begin_object (builder);
  add_string_or_null (builder, "vendor", vendor_to_string (self->cpu_vendor));
  json_builder_set_member_name (builder, "threads");
  json_builder_add_int_value (builder, self->cpu_threads);
  add_set (builder, "flags", self->cpu_flags);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "memory-mib");
  json_builder_add_int_value (builder, self->memory_mib);

  json_builder_set_member_name (builder, "sound-servers");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "pipewire");
  json_builder_add_boolean_value (builder, self->pipewire_live);
  json_builder_set_member_name (builder, "pulseaudio");
  json_builder_add_boolean_value (builder, self->pulse_live);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "firmware");
  json_builder_begin_object (builder);
  add_firmware (builder, "secure-boot", self->firmware_code[TRUE], self->firmware_vars[TRUE]);
  add_firmware (builder, "plain", self->firmware_code[FALSE], self->firmware_vars[FALSE]);
  json_builder_end_object (builder);

  add_string_or_null (builder, "swtpm", self->swtpm_path);

  json_builder_set_member_name (builder, "virtiofsd");
  if (self->virtiofsd_path != NULL)
    {
      json_builder_begin_object (builder);
      add_string_or_null (builder, "path", self->virtiofsd_path);
      add_string_or_null (builder, "flavour", flavour_to_string (self->virtiofsd_flavour));
      json_builder_end_object (builder);
    }
  else
    {
      json_builder_add_null_value (builder);
    }

  add_string_or_null (builder, "smbd", self->smbd_path);

  json_builder_set_member_name (builder, "root");
  json_builder_add_boolean_value (builder, self->is_root);

  json_builder_set_member_name (builder, "user-namespaces");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "usable");
  json_builder_add_boolean_value (builder, self->userns_usable);
  add_string_or_null (builder, "reason", self->userns_reason);
  json_builder_end_object (builder);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);

  return json_generator_to_data (generator, NULL);
}

/* Reading JSON: each helper fails with a message naming the member. */

static gboolean
read_member (JsonObject    *object,
             const char    *name,
             JsonNodeType   type,
             gboolean       nullable,
             JsonNode     **node,
             GError       **error)
{
  JsonNode *member;

  g_assert (object != NULL);

  member = json_object_get_member (object, name);
  if (member == NULL || (JSON_NODE_HOLDS_NULL (member) && nullable))
    {
      if (member == NULL && !nullable)
        {
          g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                       _("The host description lacks “%s”"), name);
          return FALSE;
        }
      *node = NULL;
      return TRUE;
    }

  if (json_node_get_node_type (member) != type)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has a wrong type of value in “%s”"), name);
      return FALSE;
    }

  *node = member;

  return TRUE;
}

static gboolean
read_string (JsonObject  *object,
             const char  *name,
             gboolean     nullable,
             char       **value,
             GError     **error)
{
  JsonNode *node = NULL;

  if (!read_member (object, name, JSON_NODE_VALUE, nullable, &node, error))
    return FALSE;

  if (node != NULL && json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has a wrong type of value in “%s”"), name);
      return FALSE;
    }

  g_free (*value);
  *value = node != NULL ? g_strdup (json_node_get_string (node)) : NULL;

  return TRUE;
}

static gboolean
read_object (JsonObject  *object,
             const char  *name,
             gboolean     nullable,
             JsonObject **value,
             GError     **error)
{
  JsonNode *node = NULL;

  if (!read_member (object, name, JSON_NODE_OBJECT, nullable, &node, error))
    return FALSE;

  *value = node != NULL ? json_node_get_object (node) : NULL;

  return TRUE;
}

static gboolean
read_boolean (JsonObject  *object,
              const char  *name,
              gboolean    *value,
              GError     **error)
{
  JsonNode *node = NULL;

  if (!read_member (object, name, JSON_NODE_VALUE, FALSE, &node, error))
    return FALSE;

  if (json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has a wrong type of value in “%s”"), name);
      return FALSE;
    }

  *value = json_node_get_boolean (node);

  return TRUE;
}

static gboolean
read_uint (JsonObject  *object,
           const char  *name,
           guint64     *value,
           GError     **error)
{
  JsonNode *node = NULL;

  if (!read_member (object, name, JSON_NODE_VALUE, FALSE, &node, error))
    return FALSE;

  if (json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has a wrong type of value in “%s”"), name);
      return FALSE;
    }

  *value = json_node_get_int (node);

  return TRUE;
}

static gboolean
read_set (JsonObject  *object,
          const char  *name,
          GHashTable  *set,
          GError     **error)
{
  JsonNode *node = NULL;
  JsonArray *array;

  if (!read_member (object, name, JSON_NODE_ARRAY, FALSE, &node, error))
    return FALSE;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
        {
          g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                       _("The host description has a wrong type of value in “%s”"), name);
          return FALSE;
        }
      g_hash_table_add (set, g_strdup (json_node_get_string (element)));
    }

  return TRUE;
}

static gboolean
read_firmware (JsonObject  *object,
               const char  *name,
               char       **code,
               char       **vars,
               GError     **error)
{
  JsonObject *pair = NULL;

  if (!read_object (object, name, TRUE, &pair, error))
    return FALSE;

  if (pair == NULL)
    return TRUE;

  return read_string (pair, "code", FALSE, code, error) &&
         read_string (pair, "vars", FALSE, vars, error);
}

static gboolean
read_host (CasementHost  *self,
           JsonObject    *root,
           GError       **error)
{
  JsonObject *qemu = NULL;
  JsonObject *kvm = NULL;
  JsonObject *cpu = NULL;
  JsonObject *sound = NULL;
  JsonObject *firmware = NULL;
  JsonObject *virtiofsd = NULL;
  JsonObject *userns = NULL;
  g_autofree char *version = NULL;
  g_autofree char *vendor = NULL;
  guint64 json_version = 0;
  guint64 threads = 0;
  gboolean flag = FALSE;

  g_assert (CASEMENT_IS_HOST (self));
  g_assert (root != NULL);

  if (!read_uint (root, "version", &json_version, error))
    return FALSE;
  if (json_version != HOST_JSON_VERSION)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has version %u, this Casement reads version %u"),
                   (guint)json_version, HOST_JSON_VERSION);
      return FALSE;
    }

  if (!read_object (root, "qemu", FALSE, &qemu, error) ||
      !read_string (qemu, "path", FALSE, &self->qemu_path, error) ||
      !read_string (qemu, "version", FALSE, &version, error) ||
      !read_string (qemu, "img-path", TRUE, &self->qemu_img_path, error) ||
      !read_set (qemu, "devices", self->devices, error) ||
      !read_set (qemu, "audiodevs", self->audiodevs, error))
    return FALSE;

  if (sscanf (version, "%u.%u.%u", &self->qemu_major, &self->qemu_minor, &self->qemu_micro) != 3)
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description has a malformed QEMU version “%s”"), version);
      return FALSE;
    }

  if (!read_object (root, "kvm", FALSE, &kvm, error) ||
      !read_boolean (kvm, "usable", &flag, error) ||
      !read_string (kvm, "reason", TRUE, &self->kvm_reason, error))
    return FALSE;
  self->kvm_usable = flag;

  if (!read_object (root, "cpu", FALSE, &cpu, error) ||
      !read_string (cpu, "vendor", FALSE, &vendor, error) ||
      !read_uint (cpu, "threads", &threads, error) ||
      !read_set (cpu, "flags", self->cpu_flags, error) ||
      !read_uint (root, "memory-mib", &self->memory_mib, error))
    return FALSE;
  self->cpu_threads = threads;
  if (g_str_equal (vendor, "intel"))
    self->cpu_vendor = CASEMENT_CPU_VENDOR_INTEL;
  else if (g_str_equal (vendor, "amd"))
    self->cpu_vendor = CASEMENT_CPU_VENDOR_AMD;
  else
    self->cpu_vendor = CASEMENT_CPU_VENDOR_UNKNOWN;

  if (!read_object (root, "sound-servers", FALSE, &sound, error) ||
      !read_boolean (sound, "pipewire", &flag, error))
    return FALSE;
  self->pipewire_live = flag;
  if (!read_boolean (sound, "pulseaudio", &flag, error))
    return FALSE;
  self->pulse_live = flag;

  if (!read_object (root, "firmware", FALSE, &firmware, error) ||
      !read_firmware (firmware, "secure-boot", &self->firmware_code[TRUE], &self->firmware_vars[TRUE], error) ||
      !read_firmware (firmware, "plain", &self->firmware_code[FALSE], &self->firmware_vars[FALSE], error))
    return FALSE;

  if (!read_string (root, "swtpm", TRUE, &self->swtpm_path, error) ||
      !read_string (root, "smbd", TRUE, &self->smbd_path, error) ||
      !read_object (root, "virtiofsd", TRUE, &virtiofsd, error))
    return FALSE;

  if (virtiofsd != NULL)
    {
      g_autofree char *flavour = NULL;

      if (!read_string (virtiofsd, "path", FALSE, &self->virtiofsd_path, error) ||
          !read_string (virtiofsd, "flavour", FALSE, &flavour, error))
        return FALSE;

      if (g_str_equal (flavour, "rust"))
        self->virtiofsd_flavour = CASEMENT_VIRTIOFSD_RUST;
      else if (g_str_equal (flavour, "legacy-c"))
        self->virtiofsd_flavour = CASEMENT_VIRTIOFSD_LEGACY_C;
      else
        {
          g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                       _("The host description has an unknown virtiofsd flavour “%s”"), flavour);
          return FALSE;
        }
    }

  if (!read_boolean (root, "root", &flag, error))
    return FALSE;
  self->is_root = flag;

  /* Absent in descriptions of older Casements: as if none could be made. */
  if (!read_object (root, "user-namespaces", TRUE, &userns, error))
    return FALSE;
  if (userns != NULL)
    {
      if (!read_boolean (userns, "usable", &flag, error) ||
          !read_string (userns, "reason", TRUE, &self->userns_reason, error))
        return FALSE;
      self->userns_usable = flag;
    }

  return TRUE;
}

/**
 * casement_host_new_from_json:
 * @json: a host description made by casement_host_to_json()
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a #CasementHost, or %NULL when @json is not a
 *   host description
 */
CasementHost *
casement_host_new_from_json (const char  *json,
                             GError     **error)
{
  g_autoptr(CasementHost) self = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                   _("The host description is not valid JSON: %s"), local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CASEMENT_HOST_ERROR, CASEMENT_HOST_ERROR_PARSE,
                           _("The host description is not a JSON object"));
      return NULL;
    }

  self = g_object_new (CASEMENT_TYPE_HOST, NULL);
  if (!read_host (self, json_node_get_object (root), error))
    return NULL;

  return g_steal_pointer (&self);
}

/* Getters */

const char *
casement_host_get_qemu_path (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->qemu_path;
}

const char *
casement_host_get_qemu_img_path (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->qemu_img_path;
}

void
casement_host_get_qemu_version (CasementHost *self,
                                guint        *major,
                                guint        *minor,
                                guint        *micro)
{
  g_return_if_fail (CASEMENT_IS_HOST (self));

  if (major != NULL)
    *major = self->qemu_major;
  if (minor != NULL)
    *minor = self->qemu_minor;
  if (micro != NULL)
    *micro = self->qemu_micro;
}

gboolean
casement_host_qemu_version_at_least (CasementHost *self,
                                     guint         major,
                                     guint         minor)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);

  return self->qemu_major > major || (self->qemu_major == major && self->qemu_minor >= minor);
}

gboolean
casement_host_get_kvm_usable (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);

  return self->kvm_usable;
}

const char *
casement_host_get_kvm_reason (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->kvm_reason;
}

CasementCpuVendor
casement_host_get_cpu_vendor (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), CASEMENT_CPU_VENDOR_UNKNOWN);

  return self->cpu_vendor;
}

gboolean
casement_host_has_cpu_flag (CasementHost *self,
                            const char   *flag)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);
  g_return_val_if_fail (flag != NULL, FALSE);

  return g_hash_table_contains (self->cpu_flags, flag);
}

guint
casement_host_get_cpu_threads (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), 0);

  return self->cpu_threads;
}

guint
casement_host_get_default_cpus (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), 2);

  return CLAMP (self->cpu_threads / 2, 2, 8);
}

guint64
casement_host_get_memory_mib (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), 0);

  return self->memory_mib;
}

gboolean
casement_host_has_device (CasementHost *self,
                          const char   *device)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);
  g_return_val_if_fail (device != NULL, FALSE);

  return g_hash_table_contains (self->devices, device);
}

gboolean
casement_host_has_audiodev (CasementHost *self,
                            const char   *driver)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);
  g_return_val_if_fail (driver != NULL, FALSE);

  return g_hash_table_contains (self->audiodevs, driver);
}

const char *
casement_host_get_audio_driver (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  /* pa and pipewire make QEMU exit at start when no server answers, so
   * they are only chosen for a server that accepted a connection. */
  if (self->pipewire_live && casement_host_has_audiodev (self, "pipewire"))
    return "pipewire";

  /* pipewire-pulse answers on pulse/native too. */
  if (self->pulse_live && casement_host_has_audiodev (self, "pa"))
    return "pa";

  return "spice";
}

const char *
casement_host_get_firmware_code (CasementHost *self,
                                 gboolean      secure_boot)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->firmware_code[!!secure_boot];
}

const char *
casement_host_get_firmware_vars (CasementHost *self,
                                 gboolean      secure_boot)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->firmware_vars[!!secure_boot];
}

const char *
casement_host_get_swtpm_path (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->swtpm_path;
}

const char *
casement_host_get_virtiofsd_path (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->virtiofsd_path;
}

CasementVirtiofsdFlavour
casement_host_get_virtiofsd_flavour (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), CASEMENT_VIRTIOFSD_NONE);

  return self->virtiofsd_flavour;
}

gboolean
casement_host_get_virtiofsd_usable (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);

  switch (self->virtiofsd_flavour)
    {
    case CASEMENT_VIRTIOFSD_RUST:
      return TRUE;
    case CASEMENT_VIRTIOFSD_LEGACY_C:
      return self->is_root || self->userns_usable;
    case CASEMENT_VIRTIOFSD_NONE:
    default:
      return FALSE;
    }
}

gboolean
casement_host_get_userns_usable (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);

  return self->userns_usable;
}

const char *
casement_host_get_userns_reason (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->userns_reason;
}

gboolean
casement_host_get_virtiofsd_userns (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), FALSE);

  return self->virtiofsd_flavour == CASEMENT_VIRTIOFSD_LEGACY_C && !self->is_root && self->userns_usable;
}

const char *
casement_host_get_smbd_path (CasementHost *self)
{
  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  return self->smbd_path;
}

/**
 * casement_host_dup_problems:
 * @self: a #CasementHost
 *
 * Returns: (transfer full): one translated sentence per problem, each
 *   saying what it means and what to do; empty when all is well
 */
char **
casement_host_dup_problems (CasementHost *self)
{
  g_autoptr(GStrvBuilder) problems = g_strv_builder_new ();

  g_return_val_if_fail (CASEMENT_IS_HOST (self), NULL);

  if (!self->kvm_usable)
    {
      g_autofree char *sentence =
        g_strdup_printf (_("KVM cannot be used, so virtual machines run under software emulation (TCG), "
                           "many times slower than normal. Why: %s."),
                         self->kvm_reason != NULL ? self->kvm_reason : _("unknown"));
      g_strv_builder_add (problems, sentence);
    }

  if (self->qemu_img_path == NULL)
    g_strv_builder_add (problems,
                        _("qemu-img was not found, so no virtual disk can be created. "
                          "Install the qemu-utils (or qemu-img) package."));

  if (self->firmware_code[TRUE] == NULL)
    g_strv_builder_add (problems,
                        _("No UEFI firmware with Secure Boot and Microsoft keys was found, so Windows 11 "
                          "cannot be installed. Install the ovmf (or edk2-ovmf) package."));

  if (self->firmware_code[FALSE] == NULL)
    g_strv_builder_add (problems,
                        _("No plain UEFI firmware (OVMF without Secure Boot) was found, so virtual machines "
                          "without Secure Boot cannot start. Install the ovmf (or edk2-ovmf) package."));

  if (self->swtpm_path == NULL)
    g_strv_builder_add (problems,
                        _("swtpm was not found, so Windows 11 cannot get the TPM 2.0 it requires. "
                          "Install the swtpm package."));

  if (!casement_host_get_virtiofsd_usable (self))
    {
      const char *fallback = self->smbd_path != NULL ? "SMB" : "WebDAV";
      g_autofree char *sentence = NULL;

      if (self->virtiofsd_flavour == CASEMENT_VIRTIOFSD_LEGACY_C)
        sentence = g_strdup_printf (_("The virtiofsd found (%s, QEMU’s older helper) only runs as root or in "
                                      "a user namespace, and this user cannot make one (%s), so shared "
                                      "folders use the slower %s instead. Allow user namespaces, or install "
                                      "the Rust virtiofsd package, for fast sharing."),
                                    self->virtiofsd_path,
                                    self->userns_reason != NULL ? self->userns_reason : _("unknown why"),
                                    fallback);
      else
        sentence = g_strdup_printf (_("virtiofsd was not found, so shared folders use the slower %s instead. "
                                      "Install the virtiofsd package for fast sharing."),
                                    fallback);
      g_strv_builder_add (problems, sentence);
    }

  return g_strv_builder_end (problems);
}
