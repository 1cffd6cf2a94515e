/* casement-vm.h
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

#pragma once

#include <gio/gio.h>

#include "casement-host.h"
#include "casement-qmp-client.h"
#include "casement-vm-config.h"
#include "casement-vm-store.h"

G_BEGIN_DECLS

#define CASEMENT_VM_ERROR (casement_vm_error_quark ())

typedef enum
{
  CASEMENT_VM_ERROR_BUSY = 1,        /* already running, here or in another process */
  CASEMENT_VM_ERROR_NOT_RUNNING,     /* the control needs a state the VM is not in */
  CASEMENT_VM_ERROR_START_FAILED,    /* QEMU or a helper failed to start; message carries its stderr */
  CASEMENT_VM_ERROR_KVM_UNUSABLE,    /* QEMU failed because KVM does not work on this host */
  CASEMENT_VM_ERROR_TIMEOUT,         /* the guest did not power off in time; force off is possible */
  CASEMENT_VM_ERROR_SNAPSHOT_UNSUPPORTED, /* a device of this VM cannot be snapshotted */
  CASEMENT_VM_ERROR_FAILED,          /* QEMU refused a command; message carries its reason */
} CasementVmError;

/* The lifecycle of one VM. STOPPING covers the time between QEMU's
 * SHUTDOWN event (or a force off) and the end of its process; CRASHED is
 * a QEMU that ended without shutting down (killed, aborted). */
typedef enum
{
  CASEMENT_VM_STATE_STOPPED = 0,
  CASEMENT_VM_STATE_STARTING,
  CASEMENT_VM_STATE_RUNNING,
  CASEMENT_VM_STATE_PAUSED,
  CASEMENT_VM_STATE_STOPPING,
  CASEMENT_VM_STATE_CRASHED,
} CasementVmState;

/* Default time a guest gets to power off after the ACPI request. */
#define CASEMENT_VM_DEFAULT_SHUTDOWN_TIMEOUT 60
/* Default seconds between two questions to the guest agent whether an
 * express install has finished. */
#define CASEMENT_VM_DEFAULT_INSTALL_POLL_INTERVAL 30

typedef struct
{
  char    *name;
  gint64   date_unix;        /* when it was taken, seconds since the epoch */
  guint64  vm_state_size;    /* bytes of saved RAM and device state */
  guint64  vm_clock_nsec;    /* guest run time when it was taken */
} CasementVmSnapshot;

#define CASEMENT_TYPE_VM (casement_vm_get_type ())

G_DECLARE_FINAL_TYPE (CasementVm, casement_vm, CASEMENT, VM, GObject)

GQuark               casement_vm_error_quark               (void) G_GNUC_CONST;

void                 casement_vm_snapshot_free             (CasementVmSnapshot   *snapshot);

/* The express install's boot prompt ("Press any key to boot from CD or
 * DVD"): pure policy. How many seconds from QEMU's start Enter should be
 * pressed, once a second, for @config under KVM (@kvm) or TCG; 0 when its
 * first boot shows no such prompt. A start applies it (unless the
 * "boot-key-window" property overrides it) and stops early on a pause, a
 * reset (Setup's reboot, which must boot the disk) or the end of QEMU. */
guint                casement_vm_boot_key_seconds          (CasementVmConfig     *config,
                                                            gboolean              kvm);

/* One object per VM folder of @store. Nothing is read or started here:
 * call casement_vm_attach_async() to find a VM that already runs (after an
 * app restart), or casement_vm_start_async(). */
CasementVm          *casement_vm_new                       (CasementVmStore      *store,
                                                            const char           *slug);
/* The same for command-line tools: it talks over the second QMP socket
 * (qmp-cli.sock), so it works while a window holds the first. */
CasementVm          *casement_vm_new_for_cli               (CasementVmStore      *store,
                                                            const char           *slug);

const char          *casement_vm_get_slug                  (CasementVm           *self);
/* The name from its settings, or the slug while there are none. */
const char          *casement_vm_get_display_name          (CasementVm           *self);
/* Returns: (transfer none): the store holding the VM's folder */
CasementVmStore     *casement_vm_get_store                 (CasementVm           *self);
CasementVmState      casement_vm_get_state                 (CasementVm           *self);
/* The settings the running VM was started with (vm.json as read at start
 * or attach, or as saved when an express install finished); NULL before
 * either. */
CasementVmConfig    *casement_vm_get_config                (CasementVm           *self);
/* The live QMP connection (qmp.sock) while RUNNING or PAUSED, else NULL. */
CasementQmpClient   *casement_vm_get_qmp_client            (CasementVm           *self);
/* What went wrong last (a crash, a failed start), translated; NULL if nothing. */
const char          *casement_vm_get_last_error            (CasementVm           *self);
/* QEMU's pid while it runs, else 0. */
GPid                 casement_vm_get_pid                   (CasementVm           *self);
/* How the share folder reaches the guest in this run, or the last one
 * (never AUTO: what was picked), and why, translated, when it was picked
 * automatically at start; a reattached VM tells only the method, read
 * from QEMU's command line. */
CasementShareMethod  casement_vm_get_share_method          (CasementVm           *self);
const char          *casement_vm_get_share_reason          (CasementVm           *self);
/* Set, translated, when the share stopped working while the VM runs on
 * (its virtiofsd ended); NULL otherwise, and again once the VM stops. */
const char          *casement_vm_get_share_problem         (CasementVm           *self);
/* The VM's data folder and runtime folder (sockets, pidfile). The runtime
 * folder's parent is created if needed (mode 0700), hence the error. */
char                *casement_vm_dup_vm_dir                (CasementVm           *self);
char                *casement_vm_dup_runtime_dir           (CasementVm           *self,
                                                            GError              **error);

/* While a VM with an answer medium (express install) and not yet
 * installed runs, the guest agent is asked every @seconds whether the
 * install wrote CASEMENT_UNATTEND_DONE_MARKER. Once it has: the cd-unattend
 * medium is ejected, vm.json says installed and no answer medium, the
 * medium (it holds the password) is deleted, "config" is notified with
 * the saved settings and "install-finished" is emitted. */
guint                casement_vm_get_install_poll_interval (CasementVm           *self);
void                 casement_vm_set_install_poll_interval (CasementVm           *self,
                                                            guint                 seconds);
/* Overrides casement_vm_boot_key_seconds() for the next starts: @seconds
 * of Enter presses, 0 for none; -1 (the default) for the policy. */
int                  casement_vm_get_boot_key_window       (CasementVm           *self);
void                 casement_vm_set_boot_key_window       (CasementVm           *self,
                                                            int                   seconds);

/* Starts the VM: helpers (swtpm, virtiofsd), then QEMU in its own session
 * so that it outlives this process. Completes once QMP answers, in
 * RUNNING or PAUSED. @host may be NULL: the host is probed then. */
void                 casement_vm_start_async               (CasementVm           *self,
                                                            CasementHost         *host,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_start_finish              (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Looks at the runtime folder: a live QEMU is connected to and followed
 * (RUNNING or PAUSED); what a dead one left behind is cleaned up (STOPPED,
 * or CRASHED when its pidfile shows it died without shutting down). */
void                 casement_vm_attach_async              (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_attach_finish             (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Controls. Each is refused with CASEMENT_VM_ERROR_NOT_RUNNING when the
 * state does not allow it; the state itself follows QMP events. */
void                 casement_vm_pause_async               (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_pause_finish              (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
void                 casement_vm_resume_async              (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_resume_finish             (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
void                 casement_vm_reset_async               (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_reset_finish              (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Asks the guest to power off (ACPI) and completes once QEMU has ended.
 * When the guest is still up after @timeout_seconds (0: the default), it
 * fails with CASEMENT_VM_ERROR_TIMEOUT and the VM keeps running: offering
 * casement_vm_force_off_async() is then up to the caller. */
void                 casement_vm_shutdown_async            (CasementVm           *self,
                                                            guint                 timeout_seconds,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_shutdown_finish           (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Pulls the plug: QMP "quit", then SIGKILL of QEMU's process group when it
 * has not ended within a few seconds. Completes once QEMU has ended. */
void                 casement_vm_force_off_async           (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_force_off_finish          (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Presses @qcodes together and releases them, e.g. { "ctrl", "alt",
 * "delete", NULL } for Ctrl+Alt+Del (QEMU's QKeyCode names). */
void                 casement_vm_send_keys_async           (CasementVm           *self,
                                                            const char * const   *qcodes,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_send_keys_finish          (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Inserts the ISO @path (read-only) into the CD drive whose qdev id is
 * @drive_id ("cd-install", "cd-drivers"); casement_vm_eject_async() takes
 * the medium out, even when the guest has locked the tray. */
void                 casement_vm_change_cd_async           (CasementVm           *self,
                                                            const char           *drive_id,
                                                            const char           *path,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_change_cd_finish          (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
void                 casement_vm_eject_async               (CasementVm           *self,
                                                            const char           *drive_id,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_eject_finish              (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Writes the guest's screen as a PNG to @path (replacing it). */
void                 casement_vm_screendump_async          (CasementVm           *self,
                                                            const char           *path,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_screendump_finish         (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Asks the balloon driver to give the guest @target_bytes of RAM. */
void                 casement_vm_set_balloon_async         (CasementVm           *self,
                                                            guint64               target_bytes,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_set_balloon_finish        (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

/* Internal snapshots (RAM, devices and all disks, in the qcow2 files).
 * QEMU pauses the guest while one is taken or loaded. Creating and
 * reverting are refused while a virtiofs share is attached and QEMU is
 * older than 8.2 (its vhost-user-fs device cannot be saved). */
void                 casement_vm_snapshot_create_async     (CasementVm           *self,
                                                            const char           *name,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_snapshot_create_finish    (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
void                 casement_vm_snapshot_revert_async     (CasementVm           *self,
                                                            const char           *name,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_snapshot_revert_finish    (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
void                 casement_vm_snapshot_delete_async     (CasementVm           *self,
                                                            const char           *name,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
gboolean             casement_vm_snapshot_delete_finish    (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);
/* Returns: (transfer full) (element-type CasementVmSnapshot): the snapshots
 * present on every writable disk, oldest first. */
void                 casement_vm_snapshot_list_async       (CasementVm           *self,
                                                            GCancellable         *cancellable,
                                                            GAsyncReadyCallback   callback,
                                                            gpointer              user_data);
GPtrArray           *casement_vm_snapshot_list_finish      (CasementVm           *self,
                                                            GAsyncResult         *result,
                                                            GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CasementVmSnapshot, casement_vm_snapshot_free)

G_END_DECLS
