/* casement-qemu-command.c
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

#define G_LOG_DOMAIN "casement-qemu-command"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "casement-qemu-command.h"
#include "casement-util.h"

/* The tag the guest mounts the virtiofs share by. */
#define SHARE_TAG "casement"

G_DEFINE_QUARK (casement-qemu-command-error-quark, casement_qemu_command_error)

/**
 * casement_qemu_escape:
 * @value: a value for a QEMU option list, such as a path
 *
 * Returns: (transfer full): @value with every ',' doubled, so QEMU reads it
 *   as one value and not as the start of the next option
 */
char *
casement_qemu_escape (const char *value)
{
  GString *escaped;

  g_return_val_if_fail (value != NULL, NULL);

  escaped = g_string_sized_new (strlen (value) + 8);
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append_c (escaped, ',');
      g_string_append_c (escaped, *p);
    }

  return g_string_free (escaped, FALSE);
}

static void
add_args (GStrvBuilder *args,
          const char   *first,
          ...) G_GNUC_NULL_TERMINATED;

static void
add_args (GStrvBuilder *args,
          const char   *first,
          ...)
{
  va_list ap;

  g_assert (args != NULL);

  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_strv_builder_add (args, arg);
  va_end (ap);
}

static void
add_option (GStrvBuilder *args,
            const char   *option,
            const char   *format,
            ...) G_GNUC_PRINTF (3, 4);

/* @option, then its value made from @format: every path spliced into
 * @format must have gone through casement_qemu_escape() first. */
static void
add_option (GStrvBuilder *args,
            const char   *option,
            const char   *format,
            ...)
{
  g_autofree char *value = NULL;
  va_list ap;

  g_assert (args != NULL);
  g_assert (option != NULL);

  va_start (ap, format);
  value = g_strdup_vprintf (format, ap);
  va_end (ap);

  add_args (args, option, value, NULL);
}

/* A path of the VM's own files: relative ones live in @vm_dir. */
static char *
resolve_vm_path (const char *vm_dir,
                 const char *path)
{
  g_assert (vm_dir != NULL);
  g_assert (path != NULL);

  if (g_path_is_absolute (path))
    return g_strdup (path);

  return g_build_filename (vm_dir, path, NULL);
}

/* "casement-<slug>" from the VM folder's name, ASCII only, so `ps` and
 * `top` show which VM a QEMU runs. The kernel keeps 15 bytes of it. */
static char *
dup_process_name (const char *vm_dir)
{
  g_autofree char *base = g_path_get_basename (vm_dir);
  g_autofree char *ascii = g_str_to_ascii (base, "C");
  GString *name = g_string_new ("casement-");
  gboolean dash = TRUE;

  for (const char *p = ascii; *p != '\0'; p++)
    {
      char c = g_ascii_tolower (*p);

      if (g_ascii_isalnum (c))
        {
          g_string_append_c (name, c);
          dash = FALSE;
        }
      else if (!dash)
        {
          g_string_append_c (name, '-');
          dash = TRUE;
        }
    }

  if (name->str[name->len - 1] == '-')
    g_string_truncate (name, name->len - 1);

  return g_string_free (name, FALSE);
}

static char *
dup_socket_path (const char  *runtime_dir,
                 const char  *name,
                 GError     **error)
{
  g_autofree char *path = g_build_filename (runtime_dir, name, NULL);

  g_assert (runtime_dir != NULL);

  if (strlen (path) > casement_util_max_socket_path ())
    {
      g_set_error (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_PATH,
                   _("The socket path %s is %u bytes long, more than the %u a unix socket can hold: "
                     "point XDG_RUNTIME_DIR at a shorter folder"),
                   path, (guint)strlen (path), (guint)casement_util_max_socket_path ());
      return NULL;
    }

  return g_steal_pointer (&path);
}

/* "tcp:2222:22" → "hostfwd=tcp:127.0.0.1:2222-:22". Forwards listen on the
 * loopback only: a guest port is not published to the network by surprise. */
static char *
dup_hostfwd (const char  *forward,
             GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (forward, ":", -1);
  guint64 ports[2];

  g_assert (forward != NULL);

  if (g_strv_length (parts) != 3 ||
      !(g_str_equal (parts[0], "tcp") || g_str_equal (parts[0], "udp")) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, 65535, &ports[0], NULL) ||
      !g_ascii_string_to_unsigned (parts[2], 10, 1, 65535, &ports[1], NULL))
    {
      g_set_error (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_INVALID,
                   _("The port forward “%s” is not of the form tcp:HOSTPORT:GUESTPORT or "
                     "udp:HOSTPORT:GUESTPORT: correct it in the VM’s network settings"),
                   forward);
      return NULL;
    }

  return g_strdup_printf ("hostfwd=%s:127.0.0.1:%u-:%u", parts[0], (guint)ports[0], (guint)ports[1]);
}

static char *
dup_cpu (CasementVmConfig *config,
         CasementHost     *host)
{
  GString *cpu;

  g_assert (CASEMENT_IS_VM_CONFIG (config));
  g_assert (CASEMENT_IS_HOST (host));

  /* TCG refuses the hv_* flags ("kernel doesn't allow setting HyperV
   * VP_INDEX"), and "max" gives it every feature it can emulate. */
  if (!casement_host_get_kvm_usable (host))
    return g_strdup ("max");

  cpu = g_string_new ("host");
  if (!casement_vm_config_is_windows (config))
    return g_string_free (cpu, FALSE);

  /* hv_evmcs stays off: it only helps nested Hyper-V and costs on AMD. */
  g_string_append (cpu, ",hv_relaxed,hv_vapic,hv_spinlocks=0x1fff,hv_vpindex,hv_runtime,hv_synic,"
                        "hv_stimer,hv_stimer_direct,hv_time,hv_frequencies,hv_reenlightenment,hv_tlbflush");
  if (casement_host_qemu_version_at_least (host, 7, 1))
    g_string_append (cpu, ",hv_tlbflush_ext");
  g_string_append (cpu, ",hv_ipi");
  if (casement_host_qemu_version_at_least (host, 7, 1))
    g_string_append (cpu, ",hv_xmm_input");
  if (casement_host_get_cpu_vendor (host) == CASEMENT_CPU_VENDOR_AMD &&
      casement_host_has_cpu_flag (host, "avic") &&
      casement_host_qemu_version_at_least (host, 6, 2))
    g_string_append (cpu, ",hv_avic");

  return g_string_free (cpu, FALSE);
}

static void
add_cd (GStrvBuilder *args,
        const char   *id,
        const char   *bus,
        const char   *path,
        gboolean      boot_first)
{
  g_autofree char *drive = NULL;

  g_assert (args != NULL);

  /* A drive without a file is an empty tray, which QMP can fill later. */
  if (path != NULL)
    {
      g_autofree char *escaped = casement_qemu_escape (path);

      drive = g_strdup_printf ("if=none,id=%s-media,media=cdrom,readonly=on,format=raw,file=%s", id, escaped);
    }
  else
    {
      drive = g_strdup_printf ("if=none,id=%s-media,media=cdrom,readonly=on", id);
    }

  add_args (args, "-drive", drive, NULL);
  add_option (args, "-device", "ide-cd,drive=%s-media,bus=%s,id=%s%s",
              id, bus, id, boot_first ? ",bootindex=0" : "");
}

static gboolean
check_share (CasementVmConfig     *config,
             CasementHost         *host,
             CasementShareMethod   method,
             GError              **error)
{
  g_assert (CASEMENT_IS_VM_CONFIG (config));
  g_assert (CASEMENT_IS_HOST (host));

  switch (method)
    {
    case CASEMENT_SHARE_METHOD_VIRTIOFS:
      if (!casement_host_get_virtiofsd_usable (host))
        {
          if (casement_host_get_virtiofsd_path (host) == NULL)
            g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING,
                                 _("The folder is to be shared with virtiofs, but virtiofsd is not installed: "
                                   "install the virtiofsd package, or share with SMB or WebDAV"));
          else
            g_set_error (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING,
                         _("The folder is to be shared with virtiofs, but the installed virtiofsd "
                           "(QEMU’s older helper) only runs as root or in a user namespace, and this "
                           "user cannot make one (%s): allow user namespaces, install the Rust "
                           "virtiofsd package, or share with SMB or WebDAV"),
                         casement_host_get_userns_reason (host) != NULL
                         ? casement_host_get_userns_reason (host) : _("unknown why"));
          return FALSE;
        }
      return TRUE;

    case CASEMENT_SHARE_METHOD_SMB:
      if (casement_host_get_smbd_path (host) == NULL)
        {
          g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING,
                               _("The folder is to be shared with SMB, but smbd is not installed: "
                                 "install the samba package, or share with WebDAV"));
          return FALSE;
        }
      if (casement_vm_config_get_network (config) == CASEMENT_NETWORK_NONE)
        {
          g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_INVALID,
                               _("The folder is to be shared with SMB, which travels over the VM’s network, "
                                 "but the VM has no network: turn the network on, or share with WebDAV"));
          return FALSE;
        }
      /* QEMU's smb= has no read-only switch; writing to a folder the user
       * marked read-only would be a silent breach. */
      if (casement_vm_config_get_share_read_only (config))
        {
          g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_INVALID,
                               _("The folder is to be shared read-only, which QEMU’s SMB share cannot do: "
                                 "share with WebDAV or virtiofs, or allow writing"));
          return FALSE;
        }
      return TRUE;

    case CASEMENT_SHARE_METHOD_NONE:
    case CASEMENT_SHARE_METHOD_AUTO:
    case CASEMENT_SHARE_METHOD_WEBDAV:
    default:
      return TRUE;
    }
}

/**
 * casement_qemu_command_resolve_share:
 * @config: a #CasementVmConfig
 * @host: the #CasementHost it will run on
 * @reason: (out) (optional) (nullable): why the method was picked, translated;
 *   %NULL unless @config says AUTO
 *
 * Picks how the share folder reaches the guest (DESIGN §6): virtiofs when
 * a virtiofsd can run here, else QEMU's SMB share when smbd exists (and the
 * VM has a network and the share may be written), else SPICE WebDAV.
 *
 * Returns: the method; %CASEMENT_SHARE_METHOD_NONE when nothing is shared
 */
CasementShareMethod
casement_qemu_command_resolve_share (CasementVmConfig  *config,
                                     CasementHost      *host,
                                     char             **reason)
{
  CasementShareMethod method;
  g_autofree char *why = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (config), CASEMENT_SHARE_METHOD_NONE);
  g_return_val_if_fail (CASEMENT_IS_HOST (host), CASEMENT_SHARE_METHOD_NONE);

  method = casement_vm_config_get_share_method (config);

  if (casement_vm_config_get_share_folder (config) == NULL)
    {
      method = CASEMENT_SHARE_METHOD_NONE;
    }
  else if (method == CASEMENT_SHARE_METHOD_AUTO)
    {
      const char *virtiofsd = casement_host_get_virtiofsd_path (host);
      g_autofree char *no_virtiofs = NULL;

      if (casement_host_get_virtiofsd_usable (host))
        {
          method = CASEMENT_SHARE_METHOD_VIRTIOFS;
          if (casement_host_get_virtiofsd_flavour (host) == CASEMENT_VIRTIOFSD_RUST)
            why = g_strdup_printf (_("virtiofs, the fastest way: %s can run without root"), virtiofsd);
          else if (casement_host_get_virtiofsd_userns (host))
            why = g_strdup_printf (_("virtiofs, the fastest way: QEMU’s older helper %s runs without "
                                     "root in a user namespace"), virtiofsd);
          else
            why = g_strdup_printf (_("virtiofs, the fastest way: QEMU’s older helper %s needs root, "
                                     "and Casement runs as root"), virtiofsd);
        }
      else
        {
          if (virtiofsd == NULL)
            no_virtiofs = g_strdup (_("virtiofsd is not installed"));
          else
            no_virtiofs = g_strdup_printf (_("the installed virtiofsd (%s, QEMU’s older helper) only runs as root "
                                             "or in a user namespace, which this user cannot make (%s)"),
                                           virtiofsd,
                                           casement_host_get_userns_reason (host) != NULL
                                           ? casement_host_get_userns_reason (host) : _("unknown why"));

          if (casement_host_get_smbd_path (host) != NULL &&
              casement_vm_config_get_network (config) != CASEMENT_NETWORK_NONE &&
              !casement_vm_config_get_share_read_only (config))
            {
              method = CASEMENT_SHARE_METHOD_SMB;
              why = g_strdup_printf (_("SMB through QEMU’s network, seen in the guest as \\\\10.0.2.4\\qemu: %s"),
                                     no_virtiofs);
            }
          else
            {
              const char *no_smb;

              if (casement_host_get_smbd_path (host) == NULL)
                no_smb = _("smbd is not installed");
              else if (casement_vm_config_get_network (config) == CASEMENT_NETWORK_NONE)
                no_smb = _("SMB needs the VM’s network, which is off");
              else
                no_smb = _("SMB cannot share read-only");

              method = CASEMENT_SHARE_METHOD_WEBDAV;
              why = g_strdup_printf (_("SPICE WebDAV (the guest needs spice-webdavd): %s, and %s"),
                                     no_virtiofs, no_smb);
            }
        }
    }

  if (reason != NULL)
    *reason = g_steal_pointer (&why);

  return method;
}

/**
 * casement_qemu_command_build:
 * @config: the VM's settings
 * @host: the machine it runs on
 * @vm_dir: the VM's data folder (absolute)
 * @runtime_dir: the VM's runtime folder (absolute)
 * @error: return location for a #GError
 *
 * Makes the QEMU command line of DESIGN §3. Pure: it reads @config and
 * @host and touches no file, so swtpm, virtiofsd, efivars.qcow2 and the
 * disk are the caller's to prepare.
 *
 * Returns: (transfer full) (array zero-terminated=1): the argv, program first
 */
char **
casement_qemu_command_build (CasementVmConfig  *config,
                             CasementHost      *host,
                             const char        *vm_dir,
                             const char        *runtime_dir,
                             GError           **error)
{
  g_autoptr(GStrvBuilder) args = NULL;
  g_autoptr(GPtrArray) hostfwds = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *qmp = NULL;
  g_autofree char *qmp_cli = NULL;
  g_autofree char *spice = NULL;
  g_autofree char *qga = NULL;
  g_autofree char *swtpm = NULL;
  g_autofree char *virtiofs = NULL;
  g_autofree char *pidfile = NULL;
  g_autofree char *name = NULL;
  g_autofree char *process = NULL;
  g_autofree char *cpu = NULL;
  g_autofree char *code = NULL;
  g_autofree char *efivars = NULL;
  const char * const *forwards;
  const char *share_folder;
  gboolean windows;
  gboolean secure_boot;
  gboolean tpm;
  gboolean kvm;
  gboolean usb;
  guint64 memory_mib;
  CasementShareMethod share;

  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (config), NULL);
  g_return_val_if_fail (CASEMENT_IS_HOST (host), NULL);
  g_return_val_if_fail (vm_dir != NULL && g_path_is_absolute (vm_dir), NULL);
  g_return_val_if_fail (runtime_dir != NULL && g_path_is_absolute (runtime_dir), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  windows = casement_vm_config_is_windows (config);
  secure_boot = casement_vm_config_get_secure_boot (config);
  tpm = casement_vm_config_get_tpm (config);
  kvm = casement_host_get_kvm_usable (host);
  memory_mib = casement_vm_config_get_memory_mib (config);
  share = casement_qemu_command_resolve_share (config, host, NULL);
  share_folder = casement_vm_config_get_share_folder (config);

  /* Everything that can refuse comes first, so no half-made argv leaks
   * and the user hears of the first real problem. */
  if (!(qmp = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_QMP_SOCKET, error)) ||
      !(qmp_cli = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_QMP_CLI_SOCKET, error)) ||
      !(spice = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_SPICE_SOCKET, error)) ||
      !(qga = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_QGA_SOCKET, error)) ||
      (tpm && !(swtpm = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_SWTPM_SOCKET, error))) ||
      (share == CASEMENT_SHARE_METHOD_VIRTIOFS &&
       !(virtiofs = dup_socket_path (runtime_dir, CASEMENT_RUNTIME_VIRTIOFS_SOCKET, error))))
    return NULL;

  if (casement_host_get_firmware_code (host, secure_boot) == NULL)
    {
      g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING,
                           secure_boot
                           ? _("The UEFI firmware with Secure Boot and Microsoft keys (OVMF) was not found: "
                               "install the ovmf package, or turn Secure Boot off for this VM")
                           : _("The UEFI firmware (OVMF) was not found: install the ovmf package"));
      return NULL;
    }

  if (tpm && casement_host_get_swtpm_path (host) == NULL)
    {
      g_set_error_literal (error, CASEMENT_QEMU_COMMAND_ERROR, CASEMENT_QEMU_COMMAND_ERROR_MISSING,
                           _("The VM has a TPM, but swtpm, which provides it, is not installed: "
                             "install the swtpm package, or turn the TPM off for this VM"));
      return NULL;
    }

  if (!check_share (config, host, share, error))
    return NULL;

  forwards = casement_vm_config_get_port_forwards (config);
  for (guint i = 0; forwards != NULL && forwards[i] != NULL; i++)
    {
      char *hostfwd = dup_hostfwd (forwards[i], error);

      if (hostfwd == NULL)
        return NULL;
      g_ptr_array_add (hostfwds, hostfwd);
    }

  args = g_strv_builder_new ();

  g_strv_builder_add (args, casement_host_get_qemu_path (host));

  /* Every value goes behind its key: a bare value (the implied "guest"
   * of -name, the path of -qmp unix:) is read as a key when it holds '='. */
  name = casement_qemu_escape (casement_vm_config_get_name (config));
  process = dup_process_name (vm_dir);
  add_option (args, "-name", "guest=%s,process=%s", name, process);

  add_args (args, "-machine", "q35,smm=on,memory-backend=mem", NULL);
  add_args (args, "-accel", kvm ? "kvm" : "tcg", NULL);
  cpu = dup_cpu (config, host);
  add_args (args, "-cpu", cpu, NULL);
  add_option (args, "-smp", "sockets=1,cores=%u,threads=1", casement_vm_config_get_cpus (config));

  /* One memfd backend the size of -m: virtiofs needs guest RAM shared. */
  add_option (args, "-m", "%" G_GUINT64_FORMAT "M", memory_mib);
  add_option (args, "-object", "memory-backend-memfd,id=mem,size=%" G_GUINT64_FORMAT "M,share=on", memory_mib);

  /* Windows keeps the RTC in local time, Linux in UTC. */
  add_args (args, "-rtc", windows ? "base=localtime" : "base=utc", NULL);
  if (windows)
    add_args (args, "-global", "ICH9-LPC.disable_s3=1", NULL);

  /* Secure Boot: only SMM may write the varstore. */
  if (secure_boot)
    add_args (args, "-global", "driver=cfi.pflash01,property=secure,value=on", NULL);
  code = casement_qemu_escape (casement_host_get_firmware_code (host, secure_boot));
  add_option (args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s", code);
  {
    g_autofree char *path = g_build_filename (vm_dir, CASEMENT_VM_EFIVARS_FILE, NULL);

    /* qcow2, not raw: savevm refuses a writable raw pflash. */
    efivars = casement_qemu_escape (path);
    add_option (args, "-drive", "if=pflash,format=qcow2,unit=1,file=%s", efivars);
  }

  /* -kernel, -initrd and -append take their value whole: no escaping. */
  if (casement_vm_config_get_kernel (config) != NULL)
    {
      add_args (args, "-kernel", casement_vm_config_get_kernel (config), NULL);
      if (casement_vm_config_get_initrd (config) != NULL)
        add_args (args, "-initrd", casement_vm_config_get_initrd (config), NULL);
      if (casement_vm_config_get_kernel_cmdline (config) != NULL)
        add_args (args, "-append", casement_vm_config_get_kernel_cmdline (config), NULL);
    }

  if (tpm)
    {
      g_autofree char *e_swtpm = casement_qemu_escape (swtpm);

      add_option (args, "-chardev", "socket,id=tpm,path=%s", e_swtpm);
      add_args (args,
                "-tpmdev", "emulator,id=tpm0,chardev=tpm",
                "-device", "tpm-crb,tpmdev=tpm0",
                NULL);
    }

  if (casement_vm_config_get_disk_path (config) != NULL)
    {
      g_autofree char *disk = resolve_vm_path (vm_dir, casement_vm_config_get_disk_path (config));
      g_autofree char *e_disk = casement_qemu_escape (disk);

      /* virtio-blk (viostor), with TRIM reaching the qcow2. */
      add_option (args, "-drive",
                  "file=%s,if=none,id=disk0,format=qcow2,discard=unmap,detect-zeroes=unmap,"
                  "cache=writeback,aio=threads",
                  e_disk);
      add_args (args, "-device", "virtio-blk-pci,drive=disk0,bootindex=1", NULL);
    }

  /* cd-install always exists, so QMP can put a medium in later. It boots
   * first only while the OS is being installed from it; a directly booted
   * kernel already holds QEMU's first boot slot. */
  add_cd (args, "cd-install", "ide.0", casement_vm_config_get_install_iso (config),
          casement_vm_config_get_install_iso (config) != NULL &&
          !casement_vm_config_get_installed (config) &&
          casement_vm_config_get_kernel (config) == NULL);
  if (casement_vm_config_get_drivers_iso (config) != NULL)
    add_cd (args, "cd-drivers", "ide.1", casement_vm_config_get_drivers_iso (config), FALSE);
  if (casement_vm_config_get_unattend_media (config) != NULL)
    {
      g_autofree char *unattend = resolve_vm_path (vm_dir, casement_vm_config_get_unattend_media (config));

      add_cd (args, "cd-unattend", "ide.2", unattend, FALSE);
    }

  {
    g_autofree char *e_spice = casement_qemu_escape (spice);
    g_autofree char *e_qga = casement_qemu_escape (qga);

    /* qxl + vdagent: the one path where Windows follows window resizes.
     * SPICE listens only on the 0700 runtime folder's socket. */
    add_args (args, "-device", "qxl-vga,vgamem_mb=64", NULL);
    add_option (args, "-spice", "unix=on,addr=%s,disable-ticketing=on,gl=off", e_spice);

    add_args (args,
              "-device", "virtio-serial-pci",
              "-chardev", "spicevmc,id=vdagent,name=vdagent",
              "-device", "virtserialport,chardev=vdagent,name=com.redhat.spice.0",
              NULL);
    add_option (args, "-chardev", "socket,id=qga,path=%s,server=on,wait=off", e_qga);
    add_args (args, "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0", NULL);
  }

  if (share == CASEMENT_SHARE_METHOD_WEBDAV)
    add_args (args,
              "-chardev", "spiceport,id=webdav,name=org.spice-space.webdav.0",
              "-device", "virtserialport,chardev=webdav,name=org.spice-space.webdav.0",
              NULL);

  /* An absolute pointer, so no grab is needed. The generic profile uses
   * virtio-tablet: the test guest's kernel has no USB. */
  usb = windows && casement_host_has_device (host, "qemu-xhci");
  if (usb)
    {
      add_args (args,
                "-device", "qemu-xhci,id=xhci",
                "-device", "usb-tablet,bus=xhci.0",
                NULL);
      if (casement_host_has_device (host, "usb-redir"))
        {
          for (guint i = 1; i <= 2; i++)
            {
              add_option (args, "-chardev", "spicevmc,id=usbredir%u,name=usbredir", i);
              add_option (args, "-device", "usb-redir,chardev=usbredir%u,bus=xhci.0", i);
            }
        }
    }
  else
    {
      add_args (args, "-device", "virtio-tablet-pci", NULL);
    }

  if (casement_vm_config_get_audio (config))
    {
      add_option (args, "-audiodev", "%s,id=snd0", casement_host_get_audio_driver (host));
      add_args (args,
                "-device", "ich9-intel-hda",
                "-device", "hda-output,audiodev=snd0",
                NULL);
    }

  if (casement_vm_config_get_network (config) == CASEMENT_NETWORK_NONE)
    {
      add_args (args, "-nic", "none", NULL);
    }
  else
    {
      g_autoptr(GString) nic = g_string_new ("user,model=virtio-net-pci");

      for (guint i = 0; i < hostfwds->len; i++)
        g_string_append_printf (nic, ",%s", (const char *)g_ptr_array_index (hostfwds, i));

      if (share == CASEMENT_SHARE_METHOD_SMB)
        {
          g_autofree char *e_folder = casement_qemu_escape (share_folder);

          g_string_append_printf (nic, ",smb=%s", e_folder);
        }

      add_args (args, "-nic", nic->str, NULL);
    }

  add_args (args, "-device", "virtio-balloon-pci", NULL);

  if (share == CASEMENT_SHARE_METHOD_VIRTIOFS)
    {
      g_autofree char *e_virtiofs = casement_qemu_escape (virtiofs);

      add_option (args, "-chardev", "socket,id=fs0,path=%s", e_virtiofs);
      add_args (args, "-device", "vhost-user-fs-pci,chardev=fs0,tag=" SHARE_TAG, NULL);
    }

  /* The generic guest reports over its serial port (the e2e tests read it). */
  if (!windows)
    {
      g_autofree char *serial = g_build_filename (vm_dir, CASEMENT_VM_SERIAL_LOG, NULL);
      g_autofree char *e_serial = casement_qemu_escape (serial);

      add_option (args, "-chardev", "file,id=serial0,path=%s", e_serial);
      add_args (args, "-serial", "chardev:serial0", NULL);
    }

  {
    g_autofree char *e_qmp = casement_qemu_escape (qmp);
    g_autofree char *e_qmp_cli = casement_qemu_escape (qmp_cli);

    /* Two monitors: the GUI holds the first, scripts get the second.
     * Spelt as -chardev + -mon, the long form of -qmp unix:, so the
     * socket path has a key. */
    add_option (args, "-chardev", "socket,id=qmp,path=%s,server=on,wait=off", e_qmp);
    add_args (args, "-mon", "chardev=qmp,mode=control", NULL);
    add_option (args, "-chardev", "socket,id=qmp-cli,path=%s,server=on,wait=off", e_qmp_cli);
    add_args (args, "-mon", "chardev=qmp-cli,mode=control", NULL);
  }

  pidfile = g_build_filename (runtime_dir, CASEMENT_RUNTIME_PIDFILE, NULL);
  add_args (args,
            "-pidfile", pidfile,
            "-nodefaults",
            "-no-user-config",
            "-display", "none",
            NULL);

  return g_strv_builder_end (args);
}
