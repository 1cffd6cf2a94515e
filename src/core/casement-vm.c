/* casement-vm.c
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

#define G_LOG_DOMAIN "casement-vm"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "casement-enums.h"
#include "casement-guest-agent.h"
#include "casement-host-private.h"
#include "casement-qemu-command.h"
#include "casement-qemu-img.h"
#include "casement-unattend.h"
#include "casement-util.h"
#include "casement-vm.h"

/* Our own files in the runtime folder, next to the ones QEMU makes. The
 * helpers get pidfiles so that a later process (after an app restart) can
 * still find and end them. */
#define RUNTIME_SWTPM_PIDFILE     "swtpm.pid"
#define RUNTIME_VIRTIOFSD_PIDFILE "virtiofsd.pid"
#define RUNTIME_SCREENDUMP_PREFIX "screendump-"
/* A link to virtiofsd, run through it so that its command line names the
 * runtime folder (it gets its socket as a descriptor). */
#define RUNTIME_VIRTIOFSD_LINK    "virtiofsd"

#define QEMU_LOG_MAX_SIZE         (1024 * 1024)
#define LOG_TAIL_MAX              4096
#define LOG_TAIL_LINES            12

#define POLL_INTERVAL_MS          25
#define HELPER_SOCKET_TIMEOUT_US  (10 * G_USEC_PER_SEC)
/* QEMU makes its QMP socket early, but under TCG on a loaded host the
 * process can take a while to get there. */
#define QMP_CONNECT_TIMEOUT_US    (60 * G_USEC_PER_SEC)
/* A QMP monitor serves one client; a second one is accepted by the kernel
 * but never greeted. This long without a greeting means "taken". */
#define QMP_GREETING_TIMEOUT_MS   5000
#define FORCE_OFF_KILL_DELAY_MS   5000
#define BOOT_KEY_INTERVAL_MS      1000
/* From QEMU's start until Windows' cdboot has shown "Press any key to
 * boot from CD or DVD" and waited its 5 s. OVMF reaches the CD in a few
 * seconds under KVM. Under TCG (Secure Boot build, q35 with SMM, on a
 * shared 2-core host) it took 6-25 s with 1-2 vCPUs and 2-8 GiB, and 63 s
 * with 4 vCPUs and 8 GiB under load. Later presses are harmless: Windows
 * PE takes minutes under TCG before Setup shows anything. */
#define BOOT_KEY_KVM_SECONDS      15
#define BOOT_KEY_TCG_SECONDS      120
#define HELPER_TERM_TIMEOUT_US    (3 * G_USEC_PER_SEC)

struct _CasementVm
{
  GObject            parent_instance;

  /* Owned references */
  CasementVmStore   *store;
  CasementVmConfig  *config;
  CasementQmpClient *qmp;
  GSubprocess       *qemu;          /* only when this process started QEMU */
  GCancellable      *cancellable;   /* cancelled in dispose: ends our watches, never the VM */
  GList             *waiters;       /* Waiter*: tasks that complete when QEMU has ended */
  CasementGuestAgent *install_agent; /* the install-marker check in flight */
  GCancellable      *install_cancellable; /* ends the marker checks with the run */

  char              *slug;
  char              *run_dir;
  char              *last_error;
  char              *exit_detail;   /* how our own QEMU child ended, for a crash message */
  char              *share_reason;
  char              *share_problem;

  GPid               pid;
  GPid               virtiofsd_pid;
  int                virtiofsd_pidfd;
  guint              virtiofsd_watch_id;
  goffset            log_offset;
  guint              exit_poll_id;
  guint              kill_timeout_id;
  guint              boot_key_id;
  gint64             boot_key_deadline;  /* monotonic µs */
  int                boot_key_window;    /* seconds; -1: as the policy says */
  guint              install_poll_id;
  guint              install_poll_interval; /* seconds */

  CasementVmState    state;
  CasementShareMethod share_method;
  guint              shutdown_seen : 1;
  guint              force_off : 1;
  guint              exiting : 1;
  guint              cli : 1;       /* talks over qmp-cli.sock */
};

G_DEFINE_FINAL_TYPE (CasementVm, casement_vm, G_TYPE_OBJECT)
G_DEFINE_QUARK (casement-vm-error-quark, casement_vm_error)

enum {
  PROP_0,
  PROP_STORE,
  PROP_SLUG,
  PROP_CLI,
  PROP_STATE,
  PROP_CONFIG,
  PROP_QMP_CLIENT,
  PROP_LAST_ERROR,
  PROP_SHARE_METHOD,
  PROP_SHARE_REASON,
  PROP_SHARE_PROBLEM,
  PROP_BOOT_KEY_WINDOW,
  PROP_INSTALL_POLL_INTERVAL,
  N_PROPS
};

enum {
  INSTALL_FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void casement_vm_follow_exit (CasementVm *self);
static JsonNode *args_new (const char *first_member,
                           ...) G_GNUC_NULL_TERMINATED;
static JsonNode *string_node (const char *value);
static JsonNode *int_node (gint64 value);
static JsonNode *bool_node (gboolean value);

/* ------------------------------------------------------------------ */
/* Processes and files: all safe from a worker thread.                 */
/* ------------------------------------------------------------------ */

/* A zombie still answers kill(pid, 0): a child of ours is reaped by GLib's
 * child watch in its worker thread, but only a moment after it died. And
 * QEMU's main thread turns zombie before its other threads have ended and
 * let go of its sockets: only a zombie with no thread left is gone. */
static gboolean
pid_is_alive (GPid pid)
{
  g_autofree char *status_path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  gboolean zombie = FALSE;
  guint threads = 1;

  if (pid <= 0)
    return FALSE;

  if (kill (pid, 0) != 0 && errno != EPERM)
    return FALSE;

  status_path = g_strdup_printf ("/proc/%d/status", (int) pid);
  if (!g_file_get_contents (status_path, &contents, NULL, NULL))
    return FALSE;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "State:"))
        zombie = strchr (lines[i], 'Z') != NULL || strchr (lines[i], 'X') != NULL;
      else if (g_str_has_prefix (lines[i], "Threads:"))
        threads = (guint) g_ascii_strtoull (lines[i] + strlen ("Threads:"), NULL, 10);
    }

  return !zombie || threads > 1;
}

/* A pid from a pidfile may have been reused since: the process counts as
 * this VM's only when its command line names the VM's runtime folder (as
 * QEMU's -pidfile and the helpers' socket paths do). */
static gboolean
pid_belongs_to_vm (GPid        pid,
                   const char *run_dir)
{
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cmdline = NULL;
  g_autofree char *escaped = NULL;
  gsize len = 0;

  g_assert (run_dir != NULL);

  if (!pid_is_alive (pid))
    return FALSE;

  cmdline_path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  if (!g_file_get_contents (cmdline_path, &cmdline, &len, NULL))
    return FALSE;

  escaped = casement_qemu_escape (run_dir);

  /* Arguments are NUL-separated: search each one. */
  for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
    {
      if (strstr (cmdline + pos, run_dir) != NULL ||
          strstr (cmdline + pos, escaped) != NULL)
        return TRUE;
    }

  return FALSE;
}

/* How a running QEMU shares the folder, read from its command line (as
 * casement_qemu_command_build() writes it): the truth after an app
 * restart, when the config may have changed since. */
static CasementShareMethod
share_method_of_qemu (GPid pid)
{
  g_autofree char *cmdline_path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  g_autofree char *cmdline = NULL;
  gsize len = 0;

  if (!g_file_get_contents (cmdline_path, &cmdline, &len, NULL))
    return CASEMENT_SHARE_METHOD_NONE;

  for (gsize pos = 0; pos < len; pos += strlen (cmdline + pos) + 1)
    {
      const char *arg = cmdline + pos;

      if (g_str_has_prefix (arg, "vhost-user-fs-pci,"))
        return CASEMENT_SHARE_METHOD_VIRTIOFS;
      if (g_str_has_prefix (arg, "spiceport,") && strstr (arg, "name=org.spice-space.webdav.0") != NULL)
        return CASEMENT_SHARE_METHOD_WEBDAV;
      if (g_str_has_prefix (arg, "user,") && strstr (arg, ",smb=") != NULL)
        return CASEMENT_SHARE_METHOD_SMB;
    }

  return CASEMENT_SHARE_METHOD_NONE;
}

static GPid
read_pidfile (const char *path)
{
  g_autofree char *contents = NULL;
  gint64 value;
  char *end = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;

  g_strstrip (contents);
  value = g_ascii_strtoll (contents, &end, 10);
  if (end == contents || *end != '\0' || value <= 1 || value > G_MAXINT)
    return 0;

  return (GPid) value;
}

static gboolean
write_pidfile (const char  *path,
               GPid         pid,
               GError     **error)
{
  g_autofree char *contents = g_strdup_printf ("%d\n", (int) pid);

  return g_file_set_contents_full (path, contents, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* Whether something listens on the unix socket @path. */
static gboolean
socket_is_live (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  gboolean live;
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    return FALSE;
  strcpy (addr.sun_path, path);

  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return FALSE;

  /* EAGAIN: the listener's backlog is full, so it is very much there. */
  live = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0 || errno == EAGAIN;
  close (fd);

  return live;
}

static const char * const runtime_sockets[] = {
  CASEMENT_RUNTIME_QMP_SOCKET,
  CASEMENT_RUNTIME_QMP_CLI_SOCKET,
  CASEMENT_RUNTIME_SPICE_SOCKET,
  CASEMENT_RUNTIME_SWTPM_SOCKET,
  CASEMENT_RUNTIME_VIRTIOFS_SOCKET,
  CASEMENT_RUNTIME_QGA_SOCKET,
  NULL
};

static const char * const helper_pidfiles[] = {
  RUNTIME_SWTPM_PIDFILE,
  RUNTIME_VIRTIOFSD_PIDFILE,
  NULL
};

/* Removes what a VM run leaves in its runtime folder (sockets, pidfiles,
 * an interrupted screendump), then the folder itself. Anything else is
 * not ours to delete: the folder then stays, and the reason is logged. */
static void
cleanup_runtime_dir (const char *run_dir)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert (run_dir != NULL);

  if (!(dir = g_dir_open (run_dir, 0, NULL)))
    return;

  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (run_dir, name, NULL);
      gboolean ours = g_str_equal (name, CASEMENT_RUNTIME_PIDFILE) ||
                      g_str_equal (name, RUNTIME_VIRTIOFSD_LINK) ||
                      g_strv_contains (helper_pidfiles, name) ||
                      g_str_has_prefix (name, RUNTIME_SCREENDUMP_PREFIX);
      struct stat st;

      /* A socket something still listens on is not a leftover. */
      if (!ours && g_strv_contains (runtime_sockets, name) &&
          g_lstat (path, &st) == 0 && S_ISSOCK (st.st_mode) && !socket_is_live (path))
        ours = TRUE;

      if (!ours)
        g_debug ("Leaving %s in place", path);
      else if (g_unlink (path) != 0 && errno != ENOENT)
        g_debug ("Cannot remove %s: %s", path, g_strerror (errno));
    }

  if (g_rmdir (run_dir) != 0 && errno != ENOENT)
    g_debug ("Keeping runtime folder %s: %s", run_dir, g_strerror (errno));
}

static void
wait_pids_gone (const GPid *pids,
              guint       n_pids,
              gint64      timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  while (g_get_monotonic_time () < deadline)
    {
      gboolean any = FALSE;

      for (guint i = 0; i < n_pids; i++)
        any |= pid_is_alive (pids[i]);

      if (!any)
        return;

      g_usleep (20 * 1000);
    }
}

/* Ends the processes of a VM run that are still there (each checked to be
 * ours first): SIGTERM, and SIGKILL after a grace time. QEMU, when listed
 * first with @kill_first, gets SIGKILL for its whole process group at
 * once: it is only ever listed so after a failed start. */
static void
end_processes (const GPid *pids,
               guint       n_pids,
               gboolean    kill_first,
               const char *run_dir)
{
  g_autoptr(GArray) ours = g_array_new (FALSE, FALSE, sizeof (GPid));

  for (guint i = 0; i < n_pids; i++)
    {
      if (!pid_belongs_to_vm (pids[i], run_dir))
        continue;

      if (i == 0 && kill_first)
        {
          g_debug ("Killing QEMU process group %d", (int) pids[i]);
          kill (-pids[i], SIGKILL);
          kill (pids[i], SIGKILL);
        }
      else
        {
          g_debug ("Ending helper process %d", (int) pids[i]);
          kill (pids[i], SIGTERM);
        }

      g_array_append_val (ours, pids[i]);
    }

  if (ours->len == 0)
    return;

  wait_pids_gone ((GPid *) ours->data, ours->len, HELPER_TERM_TIMEOUT_US);

  for (guint i = 0; i < ours->len; i++)
    {
      GPid pid = g_array_index (ours, GPid, i);

      if (pid_belongs_to_vm (pid, run_dir))
        {
          g_debug ("Process %d ignored SIGTERM; killing it", (int) pid);
          kill (pid, SIGKILL);
        }
    }

  wait_pids_gone ((GPid *) ours->data, ours->len, HELPER_TERM_TIMEOUT_US);
}

static void
read_helper_pids (const char *run_dir,
                  GArray     *pids)
{
  for (guint i = 0; helper_pidfiles[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (run_dir, helper_pidfiles[i], NULL);
      GPid pid = read_pidfile (path);

      if (pid > 0)
        g_array_append_val (pids, pid);
    }
}

/* The last lines written to @log_path since @offset: QEMU's (or a
 * helper's) own explanation of a failure. */
static char *
read_log_tail (const char *log_path,
               goffset     offset)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) tail = g_string_new (NULL);
  gsize len = 0;
  const char *start;
  guint n_lines;
  guint first;

  if (log_path == NULL || !g_file_get_contents (log_path, &contents, &len, NULL))
    return g_strdup ("");

  if (offset < 0 || (gsize) offset > len)
    offset = 0;
  start = contents + offset;
  if (len - offset > LOG_TAIL_MAX)
    start = contents + len - LOG_TAIL_MAX;

  lines = g_strsplit (start, "\n", -1);
  n_lines = g_strv_length (lines);
  first = n_lines > LOG_TAIL_LINES ? n_lines - LOG_TAIL_LINES : 0;

  for (guint i = first; i < n_lines; i++)
    {
      g_strstrip (lines[i]);
      if (lines[i][0] == '\0')
        continue;
      if (tail->len > 0)
        g_string_append_c (tail, '\n');
      g_string_append (tail, lines[i]);
    }

  if (!g_utf8_validate (tail->str, -1, NULL))
    return g_utf8_make_valid (tail->str, -1);

  return g_string_free (g_steal_pointer (&tail), FALSE);
}

/* QEMU's ways of saying KVM does not work: "failed to initialize kvm",
 * "Could not access KVM kernel module", "KVM internal error", and, where
 * /dev/kvm opens but the CPU cannot virtualize, an assertion in its KVM
 * code ("kvm_buf_set_msrs: Assertion … failed"). */
static gboolean
log_says_kvm_failed (const char *tail)
{
  g_autofree char *lower = NULL;

  if (tail == NULL)
    return FALSE;

  lower = g_ascii_strdown (tail, -1);
  return strstr (lower, "kvm internal error") != NULL ||
         strstr (lower, "failed to initialize kvm") != NULL ||
         strstr (lower, "could not access kvm kernel module") != NULL ||
         (strstr (lower, "kvm") != NULL && strstr (lower, "assertion") != NULL);
}

static char *
kvm_message (const char *tail)
{
  return g_strdup_printf (_("KVM does not work on this computer, so QEMU cannot use it. "
                            "Run the virtual machine without KVM (TCG): it is slower, but works. "
                            "QEMU said:\n%s"), tail);
}

static const char *
state_to_string (CasementVmState state)
{
  switch (state)
    {
    case CASEMENT_VM_STATE_STOPPED:
      return _("not running");
    case CASEMENT_VM_STATE_STARTING:
      return _("starting");
    case CASEMENT_VM_STATE_RUNNING:
      return _("running");
    case CASEMENT_VM_STATE_PAUSED:
      return _("paused");
    case CASEMENT_VM_STATE_STOPPING:
      return _("shutting down");
    case CASEMENT_VM_STATE_CRASHED:
      return _("stopped after a crash");
    default:
      g_assert_not_reached ();
    }
}

/* What a runtime folder says about the VM. */
typedef enum
{
  RUNTIME_NONE = 0,   /* no trace of a run (cleaned up when there was one) */
  RUNTIME_LIVE,       /* QEMU runs: pid filled in */
  RUNTIME_STARTING,   /* another process is starting it right now */
  RUNTIME_CRASHED,    /* QEMU died without removing its pidfile; cleaned up */
  RUNTIME_SOCKET_BUSY,/* no QEMU, but another program listens on one of its sockets */
} RuntimeStatus;

/* A start holds an exclusive flock() on the VM's data folder from before
 * its runtime folder exists until QEMU answers, so that no other process
 * takes the half-made runtime folder for the remains of a dead run. The
 * lock goes with the process: a crashed start leaves none behind. Returns
 * the locked descriptor, or -1 (G_IO_ERROR_BUSY when another holds it). */
static int
lock_vm_dir (const char  *vm_dir,
             GError     **error)
{
  int fd = open (vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot open the folder %s: %s"), vm_dir, g_strerror (errsv));
      return -1;
    }

  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int errsv = errno;

      close (fd);
      g_set_error (error, G_IO_ERROR, errsv == EWOULDBLOCK ? G_IO_ERROR_BUSY : g_io_error_from_errno (errsv),
                   "%s: %s", vm_dir, g_strerror (errsv));
      return -1;
    }

  return fd;
}

/* Looks at @run_dir and cleans up after a dead run: only our own files,
 * and only once no process of that run is left. @locked: the caller holds
 * the lock of lock_vm_dir() already. */
static RuntimeStatus
inspect_runtime_dir (const char  *vm_dir,
                     const char  *run_dir,
                     gboolean     locked,
                     GPid        *pid_out,
                     char       **busy_socket)
{
  g_autofree char *pidfile = g_build_filename (run_dir, CASEMENT_RUNTIME_PIDFILE, NULL);
  g_autoptr(GArray) helpers = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_autoptr(GError) error = NULL;
  gboolean had_pidfile;
  int lock_fd = -1;
  GPid pid;

  *pid_out = 0;

  if (!g_file_test (run_dir, G_FILE_TEST_IS_DIR))
    return RUNTIME_NONE;

  had_pidfile = g_file_test (pidfile, G_FILE_TEST_EXISTS);
  pid = read_pidfile (pidfile);

  if (pid_belongs_to_vm (pid, run_dir))
    {
      *pid_out = pid;
      return RUNTIME_LIVE;
    }

  if (!locked)
    {
      lock_fd = lock_vm_dir (vm_dir, &error);
      if (lock_fd < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
            return RUNTIME_STARTING;
          g_debug ("Cleaning up %s without the lock: %s", run_dir, error->message);
        }
    }

  read_helper_pids (run_dir, helpers);
  end_processes ((GPid *) helpers->data, helpers->len, FALSE, run_dir);

  /* QEMU would silently unlink a socket path it is told to listen on: a
   * live one there belongs to some other program, which would lose it. */
  for (guint i = 0; runtime_sockets[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (run_dir, runtime_sockets[i], NULL);

      if (socket_is_live (path))
        {
          *busy_socket = g_steal_pointer (&path);
          if (lock_fd >= 0)
            close (lock_fd);
          return RUNTIME_SOCKET_BUSY;
        }
    }

  cleanup_runtime_dir (run_dir);
  if (lock_fd >= 0)
    close (lock_fd);

  /* QEMU removes its pidfile when it exits in an orderly way. */
  return had_pidfile ? RUNTIME_CRASHED : RUNTIME_NONE;
}

/* ------------------------------------------------------------------ */
/* State                                                               */
/* ------------------------------------------------------------------ */

static void
casement_vm_set_state (CasementVm      *self,
                       CasementVmState  state)
{
  g_assert (CASEMENT_IS_VM (self));

  if (self->state == state)
    return;

  g_debug ("%s: %s → %s", self->slug, state_to_string (self->state), state_to_string (state));
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

static void
casement_vm_set_last_error (CasementVm *self,
                            const char *message)
{
  g_assert (CASEMENT_IS_VM (self));

  if (g_strcmp0 (self->last_error, message) == 0)
    return;

  g_free (self->last_error);
  self->last_error = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

static void
casement_vm_set_config (CasementVm       *self,
                        CasementVmConfig *config)
{
  g_assert (CASEMENT_IS_VM (self));

  if (g_set_object (&self->config, config))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFIG]);
}

static void
casement_vm_set_share (CasementVm          *self,
                       CasementShareMethod  method,
                       const char          *reason)
{
  g_assert (CASEMENT_IS_VM (self));

  if (self->share_method != method)
    {
      self->share_method = method;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARE_METHOD]);
    }

  if (g_strcmp0 (self->share_reason, reason) != 0)
    {
      g_free (self->share_reason);
      self->share_reason = g_strdup (reason);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARE_REASON]);
    }
}

static void
casement_vm_set_share_problem (CasementVm *self,
                               const char *problem)
{
  g_assert (CASEMENT_IS_VM (self));

  if (g_strcmp0 (self->share_problem, problem) == 0)
    return;

  g_free (self->share_problem);
  self->share_problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHARE_PROBLEM]);
}

/* The GUI holds qmp.sock; command-line tools use the second monitor so
 * that they work while a window is open. */
static const char *
casement_vm_qmp_socket_name (CasementVm *self)
{
  return self->cli ? CASEMENT_RUNTIME_QMP_CLI_SOCKET : CASEMENT_RUNTIME_QMP_SOCKET;
}

/**
 * casement_vm_get_display_name:
 *
 * Returns: the VM's name as its settings give it, or its folder's slug
 * before they are read.
 */
const char *
casement_vm_get_display_name (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  if (self->config != NULL)
    return casement_vm_config_get_name (self->config);
  return self->slug;
}

static char *
casement_vm_dup_log_path (CasementVm *self)
{
  g_autofree char *vm_dir = casement_vm_store_dup_vm_dir (self->store, self->slug);

  return g_build_filename (vm_dir, CASEMENT_VM_QEMU_LOG, NULL);
}

static gboolean
casement_vm_check_state (CasementVm       *self,
                         guint             allowed,
                         GError          **error)
{
  if ((allowed & (1u << self->state)) != 0)
    return TRUE;

  g_set_error (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING,
               _("“%s” is %s: this needs a running virtual machine"),
               casement_vm_get_display_name (self), state_to_string (self->state));
  return FALSE;
}

#define STATE_BIT(s) (1u << CASEMENT_VM_STATE_##s)
#define LIVE_STATES (STATE_BIT (RUNNING) | STATE_BIT (PAUSED))

/* ------------------------------------------------------------------ */
/* Waiters: tasks that complete when QEMU has ended                    */
/* ------------------------------------------------------------------ */

typedef struct
{
  CasementVm *self;       /* borrowed: the task holds a reference */
  GTask      *task;
  GSource    *timeout;
  GSource    *cancelled;
} Waiter;

static void
waiter_free (Waiter *waiter)
{
  if (waiter->timeout != NULL)
    {
      g_source_destroy (waiter->timeout);
      g_source_unref (waiter->timeout);
    }
  if (waiter->cancelled != NULL)
    {
      g_source_destroy (waiter->cancelled);
      g_source_unref (waiter->cancelled);
    }
  g_clear_object (&waiter->task);
  g_free (waiter);
}

static void
waiter_finish (Waiter *waiter,
               GError *error)
{
  g_autoptr(GTask) task = g_object_ref (waiter->task);
  CasementVm *self = waiter->self;

  self->waiters = g_list_remove (self->waiters, waiter);
  waiter_free (waiter);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
waiter_timeout_cb (gpointer user_data)
{
  Waiter *waiter = user_data;
  CasementVm *self = waiter->self;

  waiter_finish (waiter,
                 g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT,
                              _("“%s” did not shut down in time: the guest may be busy, or "
                                "ignore the request. It is still running; you can force it off."),
                              casement_vm_get_display_name (self)));
  return G_SOURCE_REMOVE;
}

static gboolean
waiter_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter_finish (waiter, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                              _("Operation was cancelled")));
  return G_SOURCE_REMOVE;
}

static void
casement_vm_add_waiter (CasementVm *self,
                        GTask      *task,
                        guint       timeout_ms)
{
  Waiter *waiter = g_new0 (Waiter, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  waiter->self = self;
  waiter->task = g_object_ref (task);

  if (timeout_ms > 0)
    {
      waiter->timeout = g_timeout_source_new (timeout_ms);
      g_source_set_callback (waiter->timeout, waiter_timeout_cb, waiter, NULL);
      g_source_attach (waiter->timeout, g_main_context_get_thread_default ());
    }

  if (cancellable != NULL)
    {
      waiter->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (waiter->cancelled, G_SOURCE_FUNC (waiter_cancelled_cb), waiter, NULL);
      g_source_attach (waiter->cancelled, g_main_context_get_thread_default ());
    }

  self->waiters = g_list_append (self->waiters, waiter);
}

static void
casement_vm_complete_waiters (CasementVm *self)
{
  while (self->waiters != NULL)
    waiter_finish (self->waiters->data, NULL);
}

/* ------------------------------------------------------------------ */
/* Express install: the boot prompt and the end of the install         */
/* ------------------------------------------------------------------ */

/**
 * casement_vm_boot_key_seconds:
 * @config: a #CasementVmConfig
 * @kvm: whether QEMU runs under KVM (else TCG)
 *
 * Windows' UEFI boot loader on the install disc asks to "Press any key to
 * boot from CD or DVD" for about 5 s; unanswered, the firmware moves on to
 * the empty disk and Setup never starts. The prompt shows when the install
 * ISO boots first, which casement_qemu_command_build() arranges for a
 * Windows VM that is not installed yet and boots no kernel of its own.
 *
 * Returns: how many seconds from QEMU's start a key should be pressed
 *   for, or 0 when this VM shows no such prompt
 */
guint
casement_vm_boot_key_seconds (CasementVmConfig *config,
                              gboolean          kvm)
{
  g_return_val_if_fail (CASEMENT_IS_VM_CONFIG (config), 0);

  if (!casement_vm_config_is_windows (config) ||
      casement_vm_config_get_install_iso (config) == NULL ||
      casement_vm_config_get_installed (config) ||
      casement_vm_config_get_kernel (config) != NULL)
    return 0;

  return kvm ? BOOT_KEY_KVM_SECONDS : BOOT_KEY_TCG_SECONDS;
}

static void
casement_vm_stop_boot_keys (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  if (self->boot_key_id != 0)
    g_debug ("%s: no more boot keys", self->slug);
  g_clear_handle_id (&self->boot_key_id, g_source_remove);
}

static void
boot_key_sent_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!casement_vm_send_keys_finish (CASEMENT_VM (object), result, &error))
    g_debug ("Boot key: %s", error->message);
}

static gboolean
boot_key_cb (gpointer user_data)
{
  CasementVm *self = user_data;
  static const char * const enter[] = { "ret", NULL };

  g_assert (CASEMENT_IS_VM (self));

  if (g_get_monotonic_time () >= self->boot_key_deadline ||
      self->state != CASEMENT_VM_STATE_RUNNING)
    {
      self->boot_key_id = 0;
      g_debug ("%s: boot key window over", self->slug);
      return G_SOURCE_REMOVE;
    }

  casement_vm_send_keys_async (self, enter, self->cancellable, boot_key_sent_cb, NULL);
  return G_SOURCE_CONTINUE;
}

/* Presses Enter once a second until @seconds after @spawned_at (QEMU's
 * start). Only ever in a run's first boot: see on_qmp_event(). */
static void
casement_vm_begin_boot_keys (CasementVm *self,
                             guint       seconds,
                             gint64      spawned_at)
{
  g_assert (CASEMENT_IS_VM (self));

  casement_vm_stop_boot_keys (self);
  if (seconds == 0 || self->cli)
    return;

  g_debug ("%s: pressing Enter for the boot prompt, up to %u s after QEMU's start",
           self->slug, seconds);
  self->boot_key_deadline = spawned_at + (gint64) seconds * G_USEC_PER_SEC;
  self->boot_key_id = g_timeout_add (BOOT_KEY_INTERVAL_MS, boot_key_cb, self);
}

typedef struct
{
  CasementVmStore *store;
  char            *slug;
  char            *vm_dir;
} InstallSaveData;

static void
install_save_data_free (InstallSaveData *data)
{
  g_clear_object (&data->store);
  g_free (data->slug);
  g_free (data->vm_dir);
  g_free (data);
}

/* Reads vm.json afresh (settings may have changed since the start), marks
 * the VM installed, and only once that is saved removes the answer medium:
 * a config naming a missing medium would keep the VM from starting. */
static void
install_save_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  InstallSaveData *data = task_data;
  g_autoptr(CasementVmConfig) config = NULL;
  g_autofree char *medium = NULL;
  GError *error = NULL;

  if (!(config = casement_vm_store_load (data->store, data->slug, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  if (casement_vm_config_get_unattend_media (config) != NULL)
    {
      const char *path = casement_vm_config_get_unattend_media (config);

      medium = g_path_is_absolute (path) ? g_strdup (path) : g_build_filename (data->vm_dir, path, NULL);
    }

  casement_vm_config_set_installed (config, TRUE);
  casement_vm_config_set_unattend_media (config, NULL);
  if (!casement_vm_store_save (data->store, data->slug, config, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* It holds the user's password. */
  if (medium != NULL && g_unlink (medium) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Cannot delete the answer medium %s, which holds the Windows "
                                 "password: %s. Delete it by hand."),
                               medium, g_strerror (saved_errno));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&config), g_object_unref);
}

static void
install_saved_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  CasementVm *self = CASEMENT_VM (object);
  g_autoptr(CasementVmConfig) config = NULL;
  g_autoptr(GError) error = NULL;

  if (!(config = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Windows is installed in “%s”, but Casement could not "
                                   "record it: %s"),
                                 casement_vm_get_display_name (self), error->message);
      g_warning ("%s", message);
      casement_vm_set_last_error (self, message);
      return;
    }

  g_debug ("%s: install finished; answer medium removed", self->slug);
  casement_vm_set_config (self, config);
  g_signal_emit (self, signals[INSTALL_FINISHED], 0);
}

static void
casement_vm_record_installed (CasementVm *self)
{
  g_autoptr(GTask) task = NULL;
  InstallSaveData *data;

  g_assert (CASEMENT_IS_VM (self));

  data = g_new0 (InstallSaveData, 1);
  data->store = g_object_ref (self->store);
  data->slug = g_strdup (self->slug);
  data->vm_dir = casement_vm_store_dup_vm_dir (self->store, self->slug);

  /* Not cancellable: the install is over whether or not anyone watches. */
  task = g_task_new (self, NULL, install_saved_cb, NULL);
  g_task_set_source_tag (task, casement_vm_record_installed);
  g_task_set_task_data (task, data, (GDestroyNotify) install_save_data_free);
  g_task_run_in_thread (task, install_save_thread);
}

static void
install_eject_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* The medium is deleted anyway: a file QEMU still has open lives on
   * only until QEMU ends. */
  if (!(reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error)))
    g_warning ("%s: could not eject the answer medium: %s", self->slug, error->message);

  casement_vm_record_installed (self);
}

static void casement_vm_stop_install_watch (CasementVm *self);

/* The marker is there: every step of the express install has run. */
static void
casement_vm_install_finished (CasementVm *self)
{
  g_autoptr(JsonNode) arguments = NULL;

  g_assert (CASEMENT_IS_VM (self));

  g_debug ("%s: the guest reports the install complete", self->slug);
  casement_vm_stop_install_watch (self);

  if (self->qmp == NULL)
    {
      casement_vm_record_installed (self);
      return;
    }

  arguments = args_new ("id", string_node ("cd-unattend"),
                        "force", bool_node (TRUE),
                        NULL);

  casement_qmp_client_execute_async (self->qmp, "eject", arguments, NULL,
                                     install_eject_cb, g_object_ref (self));
}

/* Ends one check; the agent's absence is the normal case for most of an
 * install (Setup, first boot, before the guest tools), so it stays quiet. */
static void
casement_vm_install_check_done (CasementVm   *self,
                                const GError *error)
{
  g_assert (CASEMENT_IS_VM (self));

  if (error != NULL)
    g_debug ("%s: install marker: %s", self->slug, error->message);

  if (self->install_agent != NULL)
    casement_guest_agent_close (self->install_agent);
  g_clear_object (&self->install_agent);
}

static void
install_file_close_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* The marker was there: a failed close changes nothing about that. */
  reply = casement_guest_agent_execute_finish (CASEMENT_GUEST_AGENT (object), result, &error);
  if (self->install_agent != CASEMENT_GUEST_AGENT (object))
    return;

  casement_vm_install_check_done (self, error);
  casement_vm_install_finished (self);
}

static void
install_file_open_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  CasementGuestAgent *agent = CASEMENT_GUEST_AGENT (object);
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  reply = casement_guest_agent_execute_finish (agent, result, &error);
  if (self->install_agent != agent)
    return;

  if (reply == NULL || json_node_get_value_type (reply) != G_TYPE_INT64)
    {
      if (error == NULL)
        error = g_error_new_literal (CASEMENT_GUEST_AGENT_ERROR, CASEMENT_GUEST_AGENT_ERROR_PROTOCOL,
                                     "guest-file-open returned no handle");
      casement_vm_install_check_done (self, error);
      return;
    }

  arguments = args_new ("handle", int_node (json_node_get_int (reply)), NULL);

  cancellable = self->install_cancellable;
  casement_guest_agent_execute_async (agent, "guest-file-close", arguments, cancellable,
                                      install_file_close_cb, g_steal_pointer (&self));
}

static void
install_agent_connect_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  CasementGuestAgent *agent = CASEMENT_GUEST_AGENT (object);
  g_autoptr(JsonNode) arguments = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  if (!casement_guest_agent_connect_finish (agent, result, &error))
    {
      if (self->install_agent == agent)
        casement_vm_install_check_done (self, error);
      return;
    }

  if (self->install_agent != agent)
    return;

  arguments = args_new ("path", string_node (CASEMENT_UNATTEND_DONE_MARKER),
                        "mode", string_node ("r"),
                        NULL);

  cancellable = self->install_cancellable;
  casement_guest_agent_execute_async (agent, "guest-file-open", arguments, cancellable,
                                      install_file_open_cb, g_steal_pointer (&self));
}

static gboolean
install_poll_cb (gpointer user_data)
{
  CasementVm *self = user_data;
  g_autofree char *socket_path = NULL;

  g_assert (CASEMENT_IS_VM (self));

  /* A paused guest cannot answer; a check still waiting goes on. */
  if (self->install_agent != NULL || self->state != CASEMENT_VM_STATE_RUNNING ||
      self->run_dir == NULL)
    return G_SOURCE_CONTINUE;

  socket_path = g_build_filename (self->run_dir, CASEMENT_RUNTIME_QGA_SOCKET, NULL);
  self->install_agent = casement_guest_agent_new ();
  casement_guest_agent_connect_async (self->install_agent, socket_path, self->install_cancellable,
                                      install_agent_connect_cb, g_object_ref (self));
  return G_SOURCE_CONTINUE;
}

static void
casement_vm_stop_install_watch (CasementVm *self)
{
  g_autoptr(CasementGuestAgent) agent = g_steal_pointer (&self->install_agent);
  g_autoptr(GCancellable) cancellable = g_steal_pointer (&self->install_cancellable);

  g_assert (CASEMENT_IS_VM (self));

  g_clear_handle_id (&self->install_poll_id, g_source_remove);

  /* Taken first: the check's callbacks, which closing may run, then see
   * that they are no longer current. */
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  if (agent != NULL)
    casement_guest_agent_close (agent);
}

/* While an express install runs, asks the guest agent every so often
 * whether the answer file's last step has written its marker. */
static void
casement_vm_watch_install (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  casement_vm_stop_install_watch (self);

  if (self->cli || self->config == NULL ||
      casement_vm_config_get_unattend_media (self->config) == NULL ||
      casement_vm_config_get_installed (self->config))
    return;

  g_debug ("%s: watching for the end of the install every %u s",
           self->slug, self->install_poll_interval);
  self->install_cancellable = g_cancellable_new ();
  self->install_poll_id = g_timeout_add_seconds (self->install_poll_interval, install_poll_cb, self);
}

/* ------------------------------------------------------------------ */
/* Following a running QEMU                                            */
/* ------------------------------------------------------------------ */

static void
casement_vm_drop_qmp (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  /* Both need the running QEMU. */
  casement_vm_stop_boot_keys (self);
  casement_vm_stop_install_watch (self);

  if (self->qmp == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->qmp, self);
  casement_qmp_client_close (self->qmp);
  g_clear_object (&self->qmp);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QMP_CLIENT]);
}

static void
apply_run_status (CasementVm *self,
                  const char *status)
{
  g_assert (CASEMENT_IS_VM (self));

  if (self->state != CASEMENT_VM_STATE_RUNNING &&
      self->state != CASEMENT_VM_STATE_PAUSED &&
      self->state != CASEMENT_VM_STATE_STARTING)
    return;

  if (g_strcmp0 (status, "running") == 0)
    {
      casement_vm_set_state (self, CASEMENT_VM_STATE_RUNNING);
      return;
    }

  if (g_strcmp0 (status, "internal-error") == 0)
    {
      g_autofree char *log_path = casement_vm_dup_log_path (self);
      g_autofree char *tail = read_log_tail (log_path, self->log_offset);
      g_autofree char *message = NULL;

      if (log_says_kvm_failed (tail))
        message = kvm_message (tail);
      else
        message = g_strdup_printf (_("QEMU stopped the guest after an internal error:\n%s"), tail);
      casement_vm_set_last_error (self, message);
    }
  else if (g_strcmp0 (status, "guest-panicked") == 0)
    casement_vm_set_last_error (self, _("The guest operating system crashed (it reported a panic). "
                                        "Reset the virtual machine to restart it."));
  else if (g_strcmp0 (status, "io-error") == 0)
    casement_vm_set_last_error (self, _("A disk write failed, and the guest was paused. "
                                        "Make room on the disk holding the virtual machine, then resume it."));

  casement_vm_set_state (self, CASEMENT_VM_STATE_PAUSED);
}

static void
query_status_after_stop_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!(reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error)))
    {
      g_debug ("query-status after STOP: %s", error->message);
      return;
    }

  if (self->qmp == CASEMENT_QMP_CLIENT (object) && JSON_NODE_HOLDS_OBJECT (reply))
    apply_run_status (self, json_object_get_string_member_with_default (json_node_get_object (reply),
                                                                        "status", NULL));
}

static void
on_qmp_event (CasementQmpClient *qmp,
              const char        *name,
              JsonObject        *data,
              gint64             timestamp_usec,
              CasementVm        *self)
{
  g_assert (CASEMENT_IS_VM (self));

  g_debug ("%s: event %s", self->slug, name);

  if (g_str_equal (name, "SHUTDOWN"))
    {
      casement_vm_stop_boot_keys (self);
      self->shutdown_seen = TRUE;
      if (self->state != CASEMENT_VM_STATE_STARTING)
        casement_vm_set_state (self, CASEMENT_VM_STATE_STOPPING);
    }
  else if (g_str_equal (name, "STOP"))
    {
      casement_vm_stop_boot_keys (self);
      if (self->state == CASEMENT_VM_STATE_RUNNING)
        casement_vm_set_state (self, CASEMENT_VM_STATE_PAUSED);

      /* STOP carries no reason; the run state tells a pause from a KVM
       * failure or a full disk. */
      casement_qmp_client_execute_async (qmp, "query-status", NULL, self->cancellable,
                                         query_status_after_stop_cb, g_object_ref (self));
    }
  else if (g_str_equal (name, "RESUME"))
    {
      if (self->state == CASEMENT_VM_STATE_PAUSED)
        casement_vm_set_state (self, CASEMENT_VM_STATE_RUNNING);
    }
  else if (g_str_equal (name, "RESET"))
    {
      /* Setup reboots once it has copied Windows to the disk, and the
       * disc's prompt shows again: this time it must go unanswered, so
       * that the firmware moves on to the disk and Setup goes on there. */
      casement_vm_stop_boot_keys (self);
    }
}

static void
on_qmp_closed (CasementQmpClient *qmp,
               const GError      *reason,
               CasementVm        *self)
{
  g_assert (CASEMENT_IS_VM (self));

  g_debug ("%s: QMP closed (%s)", self->slug, reason ? reason->message : "cleanly");

  /* QEMU closes its monitors as it exits; whether it ended in an orderly
   * way shows in the SHUTDOWN event and, for a reattached QEMU that is not
   * our child, in its pid going away. */
  casement_vm_drop_qmp (self);
  casement_vm_follow_exit (self);
}

static void
casement_vm_take_qmp (CasementVm        *self,
                      CasementQmpClient *qmp)
{
  g_assert (CASEMENT_IS_VM (self));
  g_assert (self->qmp == NULL);

  self->qmp = g_object_ref (qmp);
  g_signal_connect (qmp, "event", G_CALLBACK (on_qmp_event), self);
  g_signal_connect (qmp, "closed", G_CALLBACK (on_qmp_closed), self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QMP_CLIENT]);
}

/* virtiofsd serves the share for QEMU's whole run: when it ends before
 * QEMU, the guest loses the folder, and QEMU 7.2 cannot take a new one.
 * The VM runs on; the user hears of it through the share-problem. */

static void
casement_vm_unwatch_virtiofsd (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  g_clear_handle_id (&self->virtiofsd_watch_id, g_source_remove);
  if (self->virtiofsd_pidfd >= 0)
    {
      close (self->virtiofsd_pidfd);
      self->virtiofsd_pidfd = -1;
    }
  self->virtiofsd_pid = 0;
}

static void
casement_vm_report_share_lost (CasementVm *self)
{
  g_autofree char *log_path = casement_vm_dup_log_path (self);
  g_autofree char *message = NULL;

  g_assert (CASEMENT_IS_VM (self));

  message = g_strdup_printf (_("The shared folder of “%s” stopped working: its helper, virtiofsd, has "
                               "ended. The virtual machine runs on without the folder; shut it down and "
                               "start it again to share the folder again. virtiofsd’s messages are in %s."),
                             casement_vm_get_display_name (self), log_path);
  casement_vm_set_share_problem (self, message);
}

static void
virtiofsd_ended_status_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(CasementVm) self = user_data;
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *status = NULL;

  /* No answer: QEMU is ending, which is why its helper ended. */
  if (!(reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error)))
    {
      g_debug ("%s: virtiofsd ended, and QEMU does not answer: %s", self->slug, error->message);
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (reply))
    status = json_object_get_string_member_with_default (json_node_get_object (reply), "status", NULL);

  if (self->shutdown_seen || self->force_off || self->exiting ||
      (self->state != CASEMENT_VM_STATE_RUNNING && self->state != CASEMENT_VM_STATE_PAUSED) ||
      g_strcmp0 (status, "shutdown") == 0)
    return;

  casement_vm_report_share_lost (self);
}

/* Asks QEMU whether it is still there: a QEMU that is shutting down
 * takes its virtiofsd along, and only one that answers has lost it. */
static void
casement_vm_virtiofsd_ended (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  g_debug ("%s: virtiofsd %d has ended", self->slug, (int) self->virtiofsd_pid);
  casement_vm_unwatch_virtiofsd (self);

  if (self->qmp != NULL && !self->shutdown_seen && !self->force_off && !self->exiting)
    casement_qmp_client_execute_async (self->qmp, "query-status", NULL, self->cancellable,
                                       virtiofsd_ended_status_cb, g_object_ref (self));
}

static gboolean
virtiofsd_pidfd_cb (int           fd,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  CasementVm *self = user_data;

  g_assert (CASEMENT_IS_VM (self));

  self->virtiofsd_watch_id = 0;
  casement_vm_virtiofsd_ended (self);
  return G_SOURCE_REMOVE;
}

/* A pidfd, not a child watch: after an app restart virtiofsd is not our
 * child. */
static void
casement_vm_watch_virtiofsd (CasementVm *self)
{
  int pidfd;

  g_assert (CASEMENT_IS_VM (self));

  if (self->virtiofsd_pid <= 0 || self->virtiofsd_watch_id != 0)
    return;

  pidfd = (int) syscall (SYS_pidfd_open, self->virtiofsd_pid, 0);
  if (pidfd < 0)
    {
      if (errno == ESRCH)
        casement_vm_virtiofsd_ended (self);
      else
        g_debug ("%s: cannot watch virtiofsd %d: %s", self->slug, (int) self->virtiofsd_pid,
                 g_strerror (errno));
      return;
    }

  self->virtiofsd_pidfd = pidfd;
  self->virtiofsd_watch_id = g_unix_fd_add (pidfd, G_IO_IN, virtiofsd_pidfd_cb, self);
}

/* After QEMU ended: its helpers are ended too and the runtime folder goes
 * away, in a worker thread (they may take a moment). */
typedef struct
{
  char   *vm_dir;
  char   *run_dir;
  GArray *pids;
} TeardownData;

static void
teardown_data_free (TeardownData *data)
{
  g_free (data->vm_dir);
  g_free (data->run_dir);
  g_clear_pointer (&data->pids, g_array_unref);
  g_free (data);
}

static void
teardown_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  TeardownData *data = task_data;
  g_autoptr(GError) error = NULL;
  int lock_fd;

  /* A new start (from another process) may already be under way: it has
   * the lock, and cleans up what is left itself. */
  if ((lock_fd = lock_vm_dir (data->vm_dir, &error)) < 0 &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  read_helper_pids (data->run_dir, data->pids);
  end_processes ((GPid *) data->pids->data, data->pids->len, FALSE, data->run_dir);
  cleanup_runtime_dir (data->run_dir);
  if (lock_fd >= 0)
    close (lock_fd);
  g_task_return_boolean (task, TRUE);
}

static void
exit_teardown_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  CasementVm *self = CASEMENT_VM (object);
  g_autofree char *log_path = NULL;
  g_autofree char *tail = NULL;
  g_autofree char *message = NULL;
  gboolean orderly;

  g_assert (CASEMENT_IS_VM (self));

  orderly = self->shutdown_seen || self->force_off;

  if (!orderly)
    {
      log_path = casement_vm_dup_log_path (self);
      tail = read_log_tail (log_path, self->log_offset);

      if (log_says_kvm_failed (tail))
        message = kvm_message (tail);
      else if (self->exit_detail != NULL)
        message = g_strdup_printf (_("“%s” stopped unexpectedly: QEMU %s. Its disk was not touched; "
                                     "QEMU’s messages are kept in %s."),
                                   casement_vm_get_display_name (self), self->exit_detail, log_path);
      else
        message = g_strdup_printf (_("“%s” stopped unexpectedly: QEMU ended without shutting the "
                                     "guest down. Its disk was not touched; QEMU’s messages are "
                                     "kept in %s."),
                                   casement_vm_get_display_name (self), log_path);
    }

  g_clear_object (&self->qemu);
  g_clear_pointer (&self->exit_detail, g_free);
  self->pid = 0;
  self->exiting = FALSE;
  self->shutdown_seen = FALSE;
  self->force_off = FALSE;
  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);

  if (message != NULL)
    casement_vm_set_last_error (self, message);
  casement_vm_set_share_problem (self, NULL);
  casement_vm_set_state (self, orderly ? CASEMENT_VM_STATE_STOPPED : CASEMENT_VM_STATE_CRASHED);

  casement_vm_complete_waiters (self);
}

static void
casement_vm_exited (CasementVm *self)
{
  g_autoptr(GTask) task = NULL;
  TeardownData *data;

  g_assert (CASEMENT_IS_VM (self));

  if (self->exiting)
    return;
  self->exiting = TRUE;

  g_debug ("%s: QEMU %d has ended", self->slug, (int) self->pid);

  casement_vm_drop_qmp (self);
  casement_vm_unwatch_virtiofsd (self);
  g_clear_handle_id (&self->exit_poll_id, g_source_remove);

  data = g_new0 (TeardownData, 1);
  data->vm_dir = casement_vm_store_dup_vm_dir (self->store, self->slug);
  data->run_dir = g_strdup (self->run_dir);
  data->pids = g_array_new (FALSE, FALSE, sizeof (GPid));

  /* Not cancellable: the processes must be ended and the folder cleaned
   * even when the object goes away meanwhile; the task keeps it alive. */
  task = g_task_new (self, NULL, exit_teardown_cb, NULL);
  g_task_set_source_tag (task, casement_vm_exited);
  g_task_set_task_data (task, data, (GDestroyNotify) teardown_data_free);
  g_task_run_in_thread (task, teardown_thread);
}

static gboolean
exit_poll_cb (gpointer user_data)
{
  CasementVm *self = user_data;

  g_assert (CASEMENT_IS_VM (self));

  if (pid_is_alive (self->pid))
    return G_SOURCE_CONTINUE;

  /* Our own child: GLib reaps it in its worker thread, and only then is
   * its exit status known. */
  if (self->qemu != NULL)
    {
      if (g_subprocess_get_identifier (self->qemu) != NULL)
        return G_SOURCE_CONTINUE;

      g_clear_pointer (&self->exit_detail, g_free);
      if (g_subprocess_get_if_signaled (self->qemu))
        {
          int sig = g_subprocess_get_term_sig (self->qemu);

          self->exit_detail = g_strdup_printf (_("was killed by signal %d (%s)"), sig, g_strsignal (sig));
        }
      else if (g_subprocess_get_exit_status (self->qemu) != 0)
        self->exit_detail = g_strdup_printf (_("exited with status %d"),
                                             g_subprocess_get_exit_status (self->qemu));
    }

  self->exit_poll_id = 0;
  casement_vm_exited (self);
  return G_SOURCE_REMOVE;
}

static void
casement_vm_follow_exit (CasementVm *self)
{
  g_assert (CASEMENT_IS_VM (self));

  if (self->exiting || self->exit_poll_id != 0 || self->pid == 0)
    return;

  if (self->state == CASEMENT_VM_STATE_RUNNING || self->state == CASEMENT_VM_STATE_PAUSED)
    casement_vm_set_state (self, CASEMENT_VM_STATE_STOPPING);

  /* The pid, not the subprocess, is what tells: a reattached QEMU is not
   * our child. */
  self->exit_poll_id = g_timeout_add (POLL_INTERVAL_MS, exit_poll_cb, self);
}

static void
qemu_wait_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GSubprocess *subprocess = G_SUBPROCESS (object);
  g_autoptr(GError) error = NULL;
  CasementVm *self;

  /* Cancelled in dispose: self is gone. */
  if (!g_subprocess_wait_finish (subprocess, result, &error))
    return;

  /* QMP's closing normally tells first; this covers a QEMU that ended
   * without its socket closing first. */
  self = CASEMENT_VM (user_data);
  if (self->qemu == subprocess)
    casement_vm_follow_exit (self);
}

/* Connects a QMP client to @socket_path, giving up when no greeting
 * comes within @greeting_timeout_ms. */
typedef struct
{
  GCancellable *cancellable;
  gulong        chain_id;
  GCancellable *chained;
  guint         timeout_id;
} ConnectData;

static void
connect_data_free (ConnectData *data)
{
  if (data->chain_id != 0)
    g_cancellable_disconnect (data->chained, data->chain_id);
  g_clear_object (&data->chained);
  g_clear_handle_id (&data->timeout_id, g_source_remove);
  g_clear_object (&data->cancellable);
  g_free (data);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  ConnectData *data = user_data;

  data->timeout_id = 0;
  g_cancellable_cancel (data->cancellable);
  return G_SOURCE_REMOVE;
}

static void
chained_cancelled_cb (GCancellable *cancellable,
                      GCancellable *ours)
{
  g_cancellable_cancel (ours);
}

static void
qmp_connect_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!casement_qmp_client_connect_finish (CASEMENT_QMP_CLIENT (object), result, &error))
    {
      if (data->timeout_id == 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          !g_cancellable_is_cancelled (data->chained))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                 "No QMP greeting within %u ms", (guint) QMP_GREETING_TIMEOUT_MS);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, g_object_ref (object), g_object_unref);
}

static void
qmp_connect_with_timeout (const char          *socket_path,
                          guint                greeting_timeout_ms,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(CasementQmpClient) qmp = casement_qmp_client_new ();
  g_autoptr(GTask) task = g_task_new (qmp, cancellable, callback, user_data);
  ConnectData *data = g_new0 (ConnectData, 1);

  g_task_set_source_tag (task, qmp_connect_with_timeout);
  g_task_set_task_data (task, data, (GDestroyNotify) connect_data_free);

  data->cancellable = g_cancellable_new ();
  data->chained = cancellable ? g_object_ref (cancellable) : g_cancellable_new ();
  data->chain_id = g_cancellable_connect (data->chained, G_CALLBACK (chained_cancelled_cb),
                                          data->cancellable, NULL);
  data->timeout_id = g_timeout_add (greeting_timeout_ms, connect_timeout_cb, data);

  casement_qmp_client_connect_async (qmp, socket_path, data->cancellable,
                                     qmp_connect_cb, g_steal_pointer (&task));
}

static CasementQmpClient *
qmp_connect_with_timeout_finish (GAsyncResult  *result,
                                 GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
casement_vm_follow (CasementVm        *self,
                    CasementQmpClient *qmp,
                    GPid               pid,
                    const char        *status)
{
  g_assert (CASEMENT_IS_VM (self));

  self->pid = pid;
  casement_vm_take_qmp (self, qmp);

  if (self->qemu != NULL)
    g_subprocess_wait_async (self->qemu, self->cancellable, qemu_wait_cb, self);

  if (self->shutdown_seen)
    casement_vm_set_state (self, CASEMENT_VM_STATE_STOPPING);
  else
    {
      /* apply_run_status() only moves a live state. */
      if (self->state != CASEMENT_VM_STATE_STARTING)
        casement_vm_set_state (self, CASEMENT_VM_STATE_STARTING);
      apply_run_status (self, status);
    }

  /* QEMU may have ended between query-status and now. */
  if (!pid_is_alive (pid) || casement_qmp_client_get_state (qmp) != CASEMENT_QMP_STATE_READY)
    {
      casement_vm_drop_qmp (self);
      casement_vm_follow_exit (self);
      return;
    }

  casement_vm_watch_virtiofsd (self);
  casement_vm_watch_install (self);
}

/* ------------------------------------------------------------------ */
/* Start                                                               */
/* ------------------------------------------------------------------ */

typedef enum
{
  START_SWTPM,
  START_VIRTIOFSD,
  START_QEMU,
} StartStep;

typedef struct
{
  CasementHost       *host;
  CasementVmConfig   *config;
  CasementQmpClient  *qmp;
  GSubprocess        *process;        /* the one being waited for */
  GArray             *pids;           /* [0] QEMU (0 until spawned), then helpers */
  char               *vm_dir;
  char               *run_dir;
  char               *log_path;
  char               *efivars_template; /* set when efivars.qcow2 is still to be made */
  char              **argv;
  char               *wait_socket;
  const char         *wait_name;
  char               *share_reason;
  CasementShareMethod share;
  GPid                virtiofsd_pid;
  StartStep           step;
  gint64              spawned_at;     /* when QEMU was started, monotonic µs */
  int                 lock_fd;        /* held until the start is over */
  goffset             log_offset;
  gint64              deadline;
  guint               poll_id;
} StartData;

/* The start is over, one way or the other: others may look now. */
static void
start_unlock (StartData *data)
{
  if (data->lock_fd >= 0)
    close (data->lock_fd);
  data->lock_fd = -1;
}

static void
start_data_free (StartData *data)
{
  start_unlock (data);
  g_clear_handle_id (&data->poll_id, g_source_remove);
  g_clear_object (&data->host);
  g_clear_object (&data->config);
  g_clear_object (&data->qmp);
  g_clear_object (&data->process);
  g_clear_pointer (&data->pids, g_array_unref);
  g_free (data->vm_dir);
  g_free (data->run_dir);
  g_free (data->log_path);
  g_free (data->efivars_template);
  g_strfreev (data->argv);
  g_free (data->wait_socket);
  g_free (data->share_reason);
  g_free (data);
}

static gboolean
make_private_dir (const char  *path,
                  GError     **error)
{
  struct stat st;

  if (g_mkdir (path, 0700) != 0 && errno != EEXIST)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the folder %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }

  if (g_lstat (path, &st) != 0 || !S_ISDIR (st.st_mode) || st.st_uid != getuid ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("%s is not a folder owned by you; remove it and start again"), path);
      return FALSE;
    }

  if ((st.st_mode & 0077) != 0 && g_chmod (path, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot make the folder %s private: %s"), path, g_strerror (errsv));
      return FALSE;
    }

  return TRUE;
}

/* Keeps qemu.log to the last runs: over the cap, it becomes qemu.log.1. */
static void
rotate_log (const char *log_path)
{
  GStatBuf st;

  if (g_stat (log_path, &st) == 0 && st.st_size > QEMU_LOG_MAX_SIZE)
    {
      g_autofree char *old = g_strconcat (log_path, ".1", NULL);

      if (g_rename (log_path, old) != 0)
        g_debug ("Cannot rotate %s: %s", log_path, g_strerror (errno));
    }
}

static gboolean
start_log (StartData  *data,
           GError    **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%F %T");
  g_autofree char *header = NULL;
  GStatBuf st;
  int fd;

  /* The share method picked and why, for whoever reads the log later. */
  if (data->share_reason != NULL)
    header = g_strdup_printf ("=== %s: starting %s; shared folder: %s\n", stamp,
                              casement_vm_config_get_name (data->config), data->share_reason);
  else
    header = g_strdup_printf ("=== %s: starting %s\n", stamp, casement_vm_config_get_name (data->config));

  rotate_log (data->log_path);

  fd = g_open (data->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, header, strlen (header)) < 0)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot write the log %s: %s"), data->log_path, g_strerror (errsv));
      return FALSE;
    }
  close (fd);

  data->log_offset = g_stat (data->log_path, &st) == 0 ? st.st_size : 0;
  return TRUE;
}

static void
start_prepare_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  CasementVm *self = source_object;
  StartData *data = task_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *efivars = NULL;
  g_autofree char *busy_socket = NULL;
  RuntimeStatus status;
  GPid pid = 0;

  if (data->host == NULL && !(data->host = casement_host_probe (cancellable, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if ((data->lock_fd = lock_vm_dir (data->vm_dir, &error)) < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
        g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                                 _("“%s” is being started by another Casement process"),
                                 casement_vm_config_get_name (data->config));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  status = inspect_runtime_dir (data->vm_dir, data->run_dir, TRUE, &pid, &busy_socket);
  if (status == RUNTIME_SOCKET_BUSY)
    {
      g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                               _("The socket %s is in use by another program; "
                                 "end that program, then start “%s” again"),
                               busy_socket, casement_vm_config_get_name (data->config));
      return;
    }

  if (status == RUNTIME_LIVE)
    {
      g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                               _("“%s” is already running (QEMU process %d); "
                                 "use its window, or “casementctl stop” to end it"),
                               casement_vm_config_get_name (data->config), (int) pid);
      return;
    }

  if (!make_private_dir (data->run_dir, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data->share = casement_qemu_command_resolve_share (data->config, data->host, &data->share_reason);
  if (data->share_reason != NULL)
    g_debug ("%s: share method %d: %s", self->slug, data->share, data->share_reason);

  if (!(data->argv = casement_qemu_command_build (data->config, data->host,
                                                  data->vm_dir, data->run_dir, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (casement_vm_config_get_tpm (data->config))
    {
      g_autofree char *tpm_dir = g_build_filename (data->vm_dir, CASEMENT_VM_TPM_DIR, NULL);

      /* swtpm's option parser has no escape for ',' (unlike QEMU's): it
       * runs in the TPM folder with relative paths, and only the socket
       * path, under our runtime folder, is written out. */
      if (strchr (data->run_dir, ',') != NULL)
        {
          g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                   _("The TPM emulator cannot use the runtime folder %s because "
                                     "its path has a comma; set XDG_RUNTIME_DIR to a path without one"),
                                   data->run_dir);
          return;
        }

      if (casement_host_get_swtpm_path (data->host) == NULL)
        {
          g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                   _("“%s” needs a TPM, but swtpm is not installed; "
                                     "install the swtpm package"),
                                   casement_vm_config_get_name (data->config));
          return;
        }

      if (!make_private_dir (tpm_dir, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  efivars = g_build_filename (data->vm_dir, CASEMENT_VM_EFIVARS_FILE, NULL);
  if (!g_file_test (efivars, G_FILE_TEST_EXISTS))
    {
      const char *template;

      template = casement_host_get_firmware_vars (data->host,
                                                  casement_vm_config_get_secure_boot (data->config));
      if (template == NULL)
        {
          g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                   _("No UEFI variable store template (OVMF_VARS) was found; "
                                     "install the ovmf package"));
          return;
        }
      data->efivars_template = g_strdup (template);
    }

  if (!start_log (data, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* The steps of a start each take the start task's reference: they hand
 * it on to the next step, or to start_fail(). */
static void start_next (GTask *task);

/* A failed start leaves nothing behind: processes ended (QEMU killed),
 * runtime folder removed. The error is returned afterwards. */
static void
start_failed_teardown_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  GError *error = g_task_get_task_data (G_TASK (result));

  g_assert (CASEMENT_IS_VM (self));

  g_clear_object (&self->qemu);
  self->pid = 0;
  start_unlock (g_task_get_task_data (task));
  casement_vm_set_last_error (self, error->message);
  casement_vm_set_state (self, CASEMENT_VM_STATE_STOPPED);
  g_task_return_error (task, g_error_copy (error));
}

typedef struct
{
  GArray *pids;
  char   *run_dir;
} FailData;

static void
fail_data_free (FailData *data)
{
  g_clear_pointer (&data->pids, g_array_unref);
  g_free (data->run_dir);
  g_free (data);
}

static void
start_fail_teardown_thread (GTask        *task,
                            gpointer      source_object,
                            gpointer      task_data,
                            GCancellable *cancellable)
{
  FailData *data = g_object_get_data (G_OBJECT (task), "fail-data");

  read_helper_pids (data->run_dir, data->pids);
  end_processes ((GPid *) data->pids->data, data->pids->len, TRUE, data->run_dir);
  cleanup_runtime_dir (data->run_dir);
  g_task_return_boolean (task, TRUE);
}

/* Takes @task and @error. */
static void
start_fail (GTask  *task,
            GError *error)
{
  CasementVm *self = g_task_get_source_object (task);
  StartData *data = g_task_get_task_data (task);
  g_autoptr(GTask) teardown = NULL;
  FailData *fail;

  g_assert (CASEMENT_IS_VM (self));

  g_debug ("%s: start failed: %s", self->slug, error->message);

  g_clear_handle_id (&data->poll_id, g_source_remove);
  if (data->qmp != NULL)
    casement_qmp_client_close (data->qmp);

  fail = g_new0 (FailData, 1);
  fail->pids = g_array_ref (data->pids);
  fail->run_dir = g_strdup (data->run_dir);

  teardown = g_task_new (self, NULL, start_failed_teardown_cb, task);
  g_task_set_source_tag (teardown, start_fail);
  g_task_set_task_data (teardown, error, (GDestroyNotify) g_error_free);
  g_object_set_data_full (G_OBJECT (teardown), "fail-data", fail, (GDestroyNotify) fail_data_free);
  g_task_run_in_thread (teardown, start_fail_teardown_thread);
}

static GError *
start_error_from_log (StartData  *data,
                      const char *what)
{
  g_autofree char *tail = read_log_tail (data->log_path, data->log_offset);

  if (log_says_kvm_failed (tail))
    {
      g_autofree char *message = kvm_message (tail);

      return g_error_new_literal (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_KVM_UNUSABLE, message);
    }

  if (tail[0] == '\0')
    return g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                        _("%s exited while starting “%s” without saying why; see %s"),
                        what, casement_vm_config_get_name (data->config), data->log_path);

  return g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                      _("%s could not start “%s”:\n%s"),
                      what, casement_vm_config_get_name (data->config), tail);
}

/* What a helper's process does before exec, besides leaving our session.
 * Made in the parent: the child may only make system calls. */
typedef struct
{
  CasementUserns  userns;
  const char     *read_only_dir;  /* bound read-only over itself, in a mount namespace of its own */
  gboolean        enter_userns;
} HelperSetup;

/* Async-signal-safe: no printf, no strerror. Writes into the log, which
 * the start reads when the helper is gone. */
G_GNUC_NORETURN static void
exit_setup_failed (const char *step)
{
  static const char prefix[] = "casement: cannot prepare the helper: ";
  static const char middle[] = " failed, errno ";
  char number[16];
  gsize n = sizeof number;
  int value = errno;
  struct iovec parts[5];

  do
    number[--n] = '0' + value % 10;
  while ((value /= 10) > 0 && n > 0);

  parts[0] = (struct iovec) { (void *) prefix, sizeof prefix - 1 };
  parts[1] = (struct iovec) { (void *) step, strlen (step) };
  parts[2] = (struct iovec) { (void *) middle, sizeof middle - 1 };
  parts[3] = (struct iovec) { number + n, sizeof number - n };
  parts[4] = (struct iovec) { (void *) "\n", 1 };

  /* When even the log cannot be written, the exit status still tells. */
  if (writev (STDERR_FILENO, parts, G_N_ELEMENTS (parts)) < 0)
    _exit (126);
  _exit (127);
}

static void
child_setup_detached (gpointer user_data)
{
  const HelperSetup *setup = user_data;
  const char *failed = NULL;

  /* The VM outlives the app: no terminal hangup, no signal to the app's
   * process group reaches it. */
  setsid ();

  if (setup == NULL)
    return;

  if (setup->enter_userns)
    failed = _casement_host_userns_enter (&setup->userns);
  else if (setup->read_only_dir != NULL && unshare (CLONE_NEWNS) != 0)
    failed = "unshare(CLONE_NEWNS)";

  /* The C virtiofsd has no read-only switch: the folder it gets is a
   * read-only mount. Slave first, so that no mount of ours reaches the
   * namespace we came from. */
  if (failed == NULL && setup->read_only_dir != NULL)
    {
      if (mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0)
        failed = "mount(/, MS_REC | MS_SLAVE)";
      else if (mount (setup->read_only_dir, setup->read_only_dir, NULL, MS_BIND, NULL) != 0)
        failed = "mount(MS_BIND)";
      else if (mount (NULL, setup->read_only_dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
        failed = "mount(MS_REMOUNT | MS_BIND | MS_RDONLY)";
    }

  if (failed != NULL)
    exit_setup_failed (failed);
}

/* @setup: (nullable): namespaces for the helper; @pass_fd: a descriptor
 * the child gets as its fd 3 (taken), or -1. */
static GSubprocess *
spawn_detached (const char * const  *argv,
                const char          *cwd,
                const char          *log_path,
                const HelperSetup   *setup,
                int                  pass_fd,
                GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *command = NULL;
  int fd;

  command = g_strjoinv (" ", (char **) argv);
  g_debug ("Spawning: %s", command);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup_detached, (gpointer) setup, NULL);
  if (cwd != NULL)
    g_subprocess_launcher_set_cwd (launcher, cwd);
  if (pass_fd >= 0)
    g_subprocess_launcher_take_fd (launcher, pass_fd, 3);

  /* Appended, not piped: a pipe to us would break (SIGPIPE) once the app
   * is gone, and the log is what tells the user why a start failed. */
  fd = g_open (log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot write the log %s: %s"), log_path, g_strerror (errsv));
      return NULL;
    }
  g_subprocess_launcher_take_stdout_fd (launcher, fd);
  g_subprocess_launcher_take_stderr_fd (launcher, fcntl (fd, F_DUPFD_CLOEXEC, 3));

  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

static gboolean
start_poll_cb (gpointer user_data);

static void
start_wait_for_socket (GTask       *task,
                       GSubprocess *process,
                       const char  *socket_name,
                       const char  *what)
{
  StartData *data = g_task_get_task_data (task);

  g_set_object (&data->process, process);
  g_free (data->wait_socket);
  data->wait_socket = g_build_filename (data->run_dir, socket_name, NULL);
  data->wait_name = what;
  data->deadline = g_get_monotonic_time () +
                   (data->step == START_QEMU ? QMP_CONNECT_TIMEOUT_US : HELPER_SOCKET_TIMEOUT_US);
  data->poll_id = g_timeout_add (POLL_INTERVAL_MS, start_poll_cb, task);
}

/* Returns the helper's pid, or 0 when it failed (and the start with it). */
static GPid
start_spawn_helper (GTask                *task,
                    const char * const   *argv,
                    const char           *cwd,
                    const HelperSetup    *setup,
                    int                   pass_fd,
                    const char           *pidfile_name,
                    const char           *socket_name,
                    const char           *what)
{
  StartData *data = g_task_get_task_data (task);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pidfile = g_build_filename (data->run_dir, pidfile_name, NULL);
  GPid pid;

  if (!(process = spawn_detached (argv, cwd, data->log_path, setup, pass_fd, &error)))
    {
      start_fail (task, g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     _("Cannot run %s: %s"), what, error->message));
      return 0;
    }

  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  g_array_append_val (data->pids, pid);

  if (!write_pidfile (pidfile, pid, &error))
    {
      start_fail (task, g_steal_pointer (&error));
      return 0;
    }

  start_wait_for_socket (task, process, socket_name, what);
  return pid;
}

static void
start_spawn_swtpm (GTask *task)
{
  StartData *data = g_task_get_task_data (task);
  g_autofree char *tpm_dir = g_build_filename (data->vm_dir, CASEMENT_VM_TPM_DIR, NULL);
  g_autofree char *ctrl = g_strdup_printf ("type=unixio,path=%s/%s", data->run_dir,
                                           CASEMENT_RUNTIME_SWTPM_SOCKET);
  const char *argv[] = {
    casement_host_get_swtpm_path (data->host), "socket", "--tpm2",
    "--tpmstate", "dir=.",
    "--ctrl", ctrl,
    "--log", "file=swtpm.log",
    "--terminate",
    NULL
  };

  start_spawn_helper (task, argv, tpm_dir, NULL, -1, RUNTIME_SWTPM_PIDFILE,
                      CASEMENT_RUNTIME_SWTPM_SOCKET, "swtpm");
}

/* virtiofsd's socket, made here and handed over as a descriptor: given a
 * path, the C virtiofsd also writes a lock file into /run/virtiofsd,
 * which only root may, and leaves it behind (the Rust one puts one next
 * to the socket). QEMU can connect the moment this returns. -1 on error. */
static int
listen_unix (const char  *path,
             GError     **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   _("The socket path %s is too long"), path);
      return -1;
    }
  strcpy (addr.sun_path, path);

  if ((fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
      (g_unlink (path) != 0 && errno != ENOENT) ||
      bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0 ||
      listen (fd, 1) != 0)
    {
      int errsv = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot make the socket %s: %s"), path, g_strerror (errsv));
      return -1;
    }

  return fd;
}

static void
start_spawn_virtiofsd (GTask *task)
{
  StartData *data = g_task_get_task_data (task);
  CasementHost *host = data->host;
  const char *folder = casement_vm_config_get_share_folder (data->config);
  gboolean read_only = casement_vm_config_get_share_read_only (data->config);
  g_autofree char *socket_path = g_build_filename (data->run_dir, CASEMENT_RUNTIME_VIRTIOFS_SOCKET, NULL);
  g_autofree char *link = g_build_filename (data->run_dir, RUNTIME_VIRTIOFSD_LINK, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *path = casement_host_get_virtiofsd_path (host);
  HelperSetup setup = { 0 };
  int listen_fd;
  GPid pid;

  if (path == NULL || folder == NULL)
    {
      start_fail (task, g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     path == NULL
                                     ? _("“%s” shares a folder through virtiofs, but virtiofsd is not installed")
                                     : _("“%s” shares a folder through virtiofs, but no folder is set"),
                                     casement_vm_config_get_name (data->config)));
      return;
    }

  /* Run through a link in the runtime folder, so that its command line
   * names the folder: that is how a later run knows it is this VM's. */
  if ((g_unlink (link) != 0 && errno != ENOENT) || symlink (path, link) != 0)
    {
      int errsv = errno;

      start_fail (task, g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     _("Cannot make the link %s to virtiofsd: %s"),
                                     link, g_strerror (errsv)));
      return;
    }

  if ((listen_fd = listen_unix (socket_path, &error)) < 0)
    {
      start_fail (task, g_steal_pointer (&error));
      return;
    }

  g_ptr_array_add (argv, g_steal_pointer (&link));
  g_ptr_array_add (argv, g_strdup ("--fd=3"));

  if (casement_host_get_virtiofsd_flavour (host) == CASEMENT_VIRTIOFSD_LEGACY_C)
    {
      g_autoptr(GString) escaped = g_string_new ("source=");

      /* FUSE option syntax: ',' separates options, '\' escapes. */
      for (const char *p = folder; *p; p++)
        {
          if (*p == ',' || *p == '\\')
            g_string_append_c (escaped, '\\');
          g_string_append_c (escaped, *p);
        }
      g_ptr_array_add (argv, g_strdup ("-o"));
      g_ptr_array_add (argv, g_string_free (g_steal_pointer (&escaped), FALSE));

      /* Without root, in a user namespace where we are root; its own
       * sandbox (mount, pid and network namespaces) works in there. */
      setup.enter_userns = casement_host_get_virtiofsd_userns (host);
      if (setup.enter_userns)
        _casement_host_userns_init (&setup.userns);
      if (read_only)
        setup.read_only_dir = folder;
    }
  else
    {
      g_ptr_array_add (argv, g_strdup ("--shared-dir"));
      g_ptr_array_add (argv, g_strdup (folder));
      if (getuid () != 0)
        {
          g_ptr_array_add (argv, g_strdup ("--sandbox"));
          g_ptr_array_add (argv, g_strdup ("none"));
        }
      if (read_only)
        g_ptr_array_add (argv, g_strdup ("--readonly"));
    }
  g_ptr_array_add (argv, NULL);

  pid = start_spawn_helper (task, (const char * const *) argv->pdata, NULL, &setup, listen_fd,
                            RUNTIME_VIRTIOFSD_PIDFILE, CASEMENT_RUNTIME_VIRTIOFS_SOCKET, "virtiofsd");
  if (pid > 0)
    data->virtiofsd_pid = pid;
}

static void
start_spawn_qemu (GTask *task)
{
  CasementVm *self = g_task_get_source_object (task);
  StartData *data = g_task_get_task_data (task);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  GPid pid;

  if (!(process = spawn_detached ((const char * const *) data->argv, data->vm_dir,
                                  data->log_path, NULL, -1, &error)))
    {
      start_fail (task, g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     _("Cannot run QEMU: %s"), error->message));
      return;
    }

  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  g_array_index (data->pids, GPid, 0) = pid;
  g_set_object (&self->qemu, process);
  self->pid = pid;
  self->log_offset = data->log_offset;
  data->spawned_at = g_get_monotonic_time ();

  start_wait_for_socket (task, process, casement_vm_qmp_socket_name (self), "QEMU");
}

static void
start_query_status_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  StartData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *status = NULL;

  if (!(reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error)))
    {
      if (!pid_is_alive (self->pid))
        start_fail (g_steal_pointer (&task), start_error_from_log (data, "QEMU"));
      else
        start_fail (g_steal_pointer (&task), g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                       _("QEMU started “%s” but does not answer: %s"),
                                       casement_vm_config_get_name (data->config), error->message));
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (reply))
    status = json_object_get_string_member_with_default (json_node_get_object (reply), "status", NULL);

  start_unlock (data);
  self->virtiofsd_pid = data->virtiofsd_pid;
  casement_vm_follow (self, data->qmp, self->pid, status);
  casement_vm_set_last_error (self, NULL);
  /* Only here, not on attach: the prompt belongs to the first seconds of
   * a QEMU this process started. */
  if (self->state == CASEMENT_VM_STATE_RUNNING)
    casement_vm_begin_boot_keys (self,
                                 self->boot_key_window >= 0
                                 ? (guint) self->boot_key_window
                                 : casement_vm_boot_key_seconds (data->config,
                                                                 casement_host_get_kvm_usable (data->host)),
                                 data->spawned_at);
  g_task_return_boolean (task, TRUE);
}

static void
start_qmp_connect_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StartData *data = g_task_get_task_data (task);
  g_autoptr(CasementQmpClient) qmp = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  if (!(qmp = qmp_connect_with_timeout_finish (result, &error)))
    {
      if (g_task_return_error_if_cancelled (task))
        return;

      /* The socket may exist a moment before QEMU listens on it: retry
       * until the deadline, or until QEMU is gone. */
      g_debug ("QMP connect: %s; retrying", error->message);
      data->poll_id = g_timeout_add (POLL_INTERVAL_MS, start_poll_cb, g_steal_pointer (&task));
      return;
    }

  g_set_object (&data->qmp, qmp);
  cancellable = g_task_get_cancellable (task);
  casement_qmp_client_execute_async (qmp, "query-status", NULL, cancellable,
                                     start_query_status_cb, g_steal_pointer (&task));
}

static gboolean
start_poll_cb (gpointer user_data)
{
  /* The source's reference, handed on to whatever comes next. */
  GTask *task = user_data;
  StartData *data = g_task_get_task_data (task);
  GPid pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (data->process)
                                     ? g_subprocess_get_identifier (data->process) : "0", NULL, 10);

  data->poll_id = 0;

  if (g_task_get_cancellable (task) != NULL &&
      g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      start_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             _("Operation was cancelled")));
      return G_SOURCE_REMOVE;
    }

  if (pid == 0 || !pid_is_alive (pid))
    {
      /* QEMU fails when virtiofsd does: the one to name is virtiofsd. */
      const char *what = data->step == START_QEMU && data->virtiofsd_pid > 0 &&
                         !pid_is_alive (data->virtiofsd_pid) ? "virtiofsd" : data->wait_name;

      start_fail (task, start_error_from_log (data, what));
      return G_SOURCE_REMOVE;
    }

  if (g_file_test (data->wait_socket, G_FILE_TEST_EXISTS))
    {
      if (data->step != START_QEMU)
        {
          g_clear_object (&data->process);
          data->step++;
          start_next (task);
          return G_SOURCE_REMOVE;
        }

      qmp_connect_with_timeout (data->wait_socket, QMP_GREETING_TIMEOUT_MS,
                                g_task_get_cancellable (task),
                                start_qmp_connect_cb, task);
      return G_SOURCE_REMOVE;
    }

  if (g_get_monotonic_time () > data->deadline)
    {
      g_autofree char *tail = read_log_tail (data->log_path, data->log_offset);

      start_fail (task, g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     _("%s did not open %s in time while starting “%s”:\n%s"),
                                     data->wait_name, data->wait_socket,
                                     casement_vm_config_get_name (data->config), tail));
      return G_SOURCE_REMOVE;
    }

  data->poll_id = g_timeout_add (POLL_INTERVAL_MS, start_poll_cb, task);
  return G_SOURCE_REMOVE;
}

static void
start_next (GTask *task)
{
  StartData *data = g_task_get_task_data (task);

  switch (data->step)
    {
    case START_SWTPM:
      if (casement_vm_config_get_tpm (data->config))
        {
          start_spawn_swtpm (task);
          return;
        }
      data->step++;
      G_GNUC_FALLTHROUGH;

    case START_VIRTIOFSD:
      if (data->share == CASEMENT_SHARE_METHOD_VIRTIOFS)
        {
          start_spawn_virtiofsd (task);
          return;
        }
      data->step++;
      G_GNUC_FALLTHROUGH;

    case START_QEMU:
      start_spawn_qemu (task);
      return;

    default:
      g_assert_not_reached ();
    }
}

static void
start_efivars_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StartData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!casement_qemu_img_convert_finish (result, &error))
    {
      start_fail (g_steal_pointer (&task), g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_START_FAILED,
                                     _("Cannot make the UEFI variable store of “%s” from %s: %s"),
                                     casement_vm_config_get_name (data->config),
                                     data->efivars_template, error->message));
      return;
    }

  start_next (g_steal_pointer (&task));
}

static void
start_prepare_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StartData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  CasementVm *self = g_task_get_source_object (task);

  if (data->run_dir != NULL && g_strcmp0 (self->run_dir, data->run_dir) != 0)
    {
      g_free (self->run_dir);
      self->run_dir = g_strdup (data->run_dir);
    }
  if (data->config != NULL)
    casement_vm_set_config (self, data->config);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      /* Nothing was started: only the state goes back. */
      start_unlock (data);
      casement_vm_set_last_error (self, error->message);
      casement_vm_set_state (self, CASEMENT_VM_STATE_STOPPED);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  casement_vm_set_share (self, data->share, data->share_reason);
  casement_vm_set_share_problem (self, NULL);

  if (data->efivars_template != NULL)
    {
      g_autoptr(GFile) source = g_file_new_for_path (data->efivars_template);
      g_autofree char *dest_path = g_build_filename (data->vm_dir, CASEMENT_VM_EFIVARS_FILE, NULL);
      g_autoptr(GFile) dest = g_file_new_for_path (dest_path);

      GCancellable *cancellable = g_task_get_cancellable (task);

      casement_qemu_img_convert_async (source, "raw", dest, cancellable,
                                       start_efivars_cb, g_steal_pointer (&task));
      return;
    }

  start_next (g_steal_pointer (&task));
}

static void
start_load_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  CasementVm *self = source_object;
  StartData *data = task_data;
  GError *error = NULL;

  if (!(data->config = casement_vm_store_load (self->store, self->slug, &error)) ||
      !(data->run_dir = casement_util_dup_vm_runtime_dir (self->slug, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  start_prepare_thread (task, source_object, task_data, cancellable);
}

/**
 * casement_vm_start_async:
 * @self: a #CasementVm
 * @host: (nullable): the host description, or %NULL to probe it
 *
 * Starts the VM. See casement-vm.h.
 */
void
casement_vm_start_async (CasementVm          *self,
                         CasementHost        *host,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) prepare = NULL;
  StartData *data;

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (host == NULL || CASEMENT_IS_HOST (host));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_start_async);

  if (self->state != CASEMENT_VM_STATE_STOPPED && self->state != CASEMENT_VM_STATE_CRASHED)
    {
      g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                               _("“%s” is %s already; use its window, or shut it down first"),
                               casement_vm_get_display_name (self), state_to_string (self->state));
      return;
    }

  data = g_new0 (StartData, 1);
  data->lock_fd = -1;
  data->host = host ? g_object_ref (host) : NULL;
  data->vm_dir = casement_vm_store_dup_vm_dir (self->store, self->slug);
  data->log_path = g_build_filename (data->vm_dir, CASEMENT_VM_QEMU_LOG, NULL);
  data->pids = g_array_new (FALSE, TRUE, sizeof (GPid));
  g_array_set_size (data->pids, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) start_data_free);

  self->shutdown_seen = FALSE;
  self->force_off = FALSE;
  casement_vm_set_state (self, CASEMENT_VM_STATE_STARTING);

  /* The preparation reads and writes files and may probe the host: a
   * worker thread's job. It fills @data, which is only read here after. */
  prepare = g_task_new (self, cancellable, start_prepare_cb, g_steal_pointer (&task));
  g_task_set_source_tag (prepare, start_load_thread);
  g_task_set_task_data (prepare, data, NULL);
  g_task_run_in_thread (prepare, start_load_thread);
}

gboolean
casement_vm_start_finish (CasementVm    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* Attach                                                              */
/* ------------------------------------------------------------------ */

typedef struct
{
  CasementVmConfig   *config;
  char               *run_dir;
  char               *busy_socket;
  RuntimeStatus       status;
  GPid                pid;
  GPid                virtiofsd_pid;
  CasementShareMethod share;
  guint               tries;
} AttachData;

static void
attach_data_free (AttachData *data)
{
  g_clear_object (&data->config);
  g_free (data->run_dir);
  g_free (data->busy_socket);
  g_free (data);
}

static void
attach_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  CasementVm *self = source_object;
  AttachData *data = task_data;
  g_autofree char *vm_dir = NULL;
  GError *error = NULL;

  if (data->config == NULL &&
      !(data->config = casement_vm_store_load (self->store, self->slug, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  if (data->run_dir == NULL &&
      !(data->run_dir = casement_util_dup_vm_runtime_dir (self->slug, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  g_clear_pointer (&data->busy_socket, g_free);
  vm_dir = casement_vm_store_dup_vm_dir (self->store, self->slug);
  data->status = inspect_runtime_dir (vm_dir, data->run_dir, FALSE, &data->pid, &data->busy_socket);

  if (data->status == RUNTIME_LIVE)
    {
      g_autofree char *pidfile = g_build_filename (data->run_dir, RUNTIME_VIRTIOFSD_PIDFILE, NULL);
      GPid virtiofsd = read_pidfile (pidfile);

      data->share = share_method_of_qemu (data->pid);
      data->virtiofsd_pid = pid_belongs_to_vm (virtiofsd, data->run_dir) ? virtiofsd : 0;
    }

  g_task_return_boolean (task, TRUE);
}

static void attach_inspected_cb (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data);

static void
attach_query_status_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  AttachData *data = g_task_get_task_data (task);
  CasementQmpClient *qmp = CASEMENT_QMP_CLIENT (object);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *status = NULL;

  if (!(reply = casement_qmp_client_execute_finish (qmp, result, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->state != CASEMENT_VM_STATE_STOPPED && self->state != CASEMENT_VM_STATE_CRASHED)
    {
      /* A start of ours won the race: it follows the VM already. */
      casement_qmp_client_close (qmp);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (JSON_NODE_HOLDS_OBJECT (reply))
    status = json_object_get_string_member_with_default (json_node_get_object (reply), "status", NULL);

  g_clear_object (&self->qemu);
  self->shutdown_seen = FALSE;
  self->force_off = FALSE;
  self->log_offset = 0;
  casement_vm_set_last_error (self, NULL);
  casement_vm_set_share (self, data->share, NULL);
  casement_vm_set_share_problem (self, NULL);
  self->virtiofsd_pid = data->virtiofsd_pid;
  casement_vm_follow (self, qmp, data->pid, status);

  /* It ended while no one watched. */
  if (data->share == CASEMENT_SHARE_METHOD_VIRTIOFS && data->virtiofsd_pid == 0 &&
      (self->state == CASEMENT_VM_STATE_RUNNING || self->state == CASEMENT_VM_STATE_PAUSED))
    casement_vm_report_share_lost (self);

  g_task_return_boolean (task, TRUE);
}

static void
attach_connect_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  AttachData *data = g_task_get_task_data (task);
  g_autoptr(CasementQmpClient) qmp = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;

  if (!(qmp = qmp_connect_with_timeout_finish (result, &error)))
    {
      if (g_task_return_error_if_cancelled (task))
        return;

      /* It may just have ended: look again, once. */
      if (!pid_is_alive (data->pid) && data->tries++ == 0)
        {
          GTask *again = g_task_new (self, g_task_get_cancellable (task),
                                     attach_inspected_cb, g_object_ref (task));

          g_task_set_source_tag (again, attach_thread);
          g_task_set_task_data (again, data, NULL);
          g_task_run_in_thread (again, attach_thread);
          g_object_unref (again);
          return;
        }

      g_debug ("Attach to %s: %s", self->slug, error->message);
      if (self->cli)
        g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                                 _("“%s” is running, but another command is talking to it "
                                   "(its command socket is taken); try again when that is done"),
                                 casement_vm_get_display_name (self));
      else
        g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                                 _("“%s” is running, but another Casement process controls it "
                                   "(its QMP socket is taken). Close that window first; "
                                   "“casementctl” commands still work meanwhile."),
                                 casement_vm_get_display_name (self));
      return;
    }

  cancellable = g_task_get_cancellable (task);
  casement_qmp_client_execute_async (qmp, "query-status", NULL, cancellable,
                                     attach_query_status_cb, g_steal_pointer (&task));
}

static void
attach_inspected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  AttachData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *qmp_path = NULL;
  GCancellable *cancellable;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_strcmp0 (self->run_dir, data->run_dir) != 0)
    {
      g_free (self->run_dir);
      self->run_dir = g_strdup (data->run_dir);
    }
  casement_vm_set_config (self, data->config);

  /* A start of ours may have begun meanwhile: it owns the state now. */
  if (self->state != CASEMENT_VM_STATE_STOPPED && self->state != CASEMENT_VM_STATE_CRASHED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  switch (data->status)
    {
    case RUNTIME_NONE:
      g_task_return_boolean (task, TRUE);
      return;

    case RUNTIME_SOCKET_BUSY:
      /* Not running; the start will say what is in the way. */
      g_debug ("%s: %s is in use by another program", self->slug, data->busy_socket);
      g_task_return_boolean (task, TRUE);
      return;

    case RUNTIME_CRASHED:
      {
        g_autofree char *log_path = casement_vm_dup_log_path (self);
        g_autofree char *message = NULL;

        message = g_strdup_printf (_("“%s” stopped unexpectedly while no Casement window was "
                                     "watching it. Its disk was not touched; QEMU’s messages "
                                     "are kept in %s."),
                                   casement_vm_get_display_name (self), log_path);
        casement_vm_set_last_error (self, message);
        casement_vm_set_state (self, CASEMENT_VM_STATE_CRASHED);
        g_task_return_boolean (task, TRUE);
        return;
      }

    case RUNTIME_STARTING:
      g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_BUSY,
                               _("“%s” is being started by another Casement process"),
                               casement_vm_get_display_name (self));
      return;

    case RUNTIME_LIVE:
      qmp_path = g_build_filename (data->run_dir, casement_vm_qmp_socket_name (self), NULL);
      cancellable = g_task_get_cancellable (task);
      qmp_connect_with_timeout (qmp_path, QMP_GREETING_TIMEOUT_MS, cancellable,
                                attach_connect_cb, g_steal_pointer (&task));
      return;

    default:
      g_assert_not_reached ();
    }
}

void
casement_vm_attach_async (CasementVm          *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) inspect = NULL;
  AttachData *data;

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_attach_async);

  if (self->state != CASEMENT_VM_STATE_STOPPED && self->state != CASEMENT_VM_STATE_CRASHED)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  data = g_new0 (AttachData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) attach_data_free);

  /* Reading vm.json and the runtime folder, and cleaning up after a dead
   * run, happen in a worker thread; @data is shared, read here after. */
  inspect = g_task_new (self, cancellable, attach_inspected_cb, g_steal_pointer (&task));
  g_task_set_source_tag (inspect, attach_thread);
  g_task_set_task_data (inspect, data, NULL);
  g_task_run_in_thread (inspect, attach_thread);
}

gboolean
casement_vm_attach_finish (CasementVm    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* Controls                                                            */
/* ------------------------------------------------------------------ */

/* @what completes "QEMU could not …" in an error message. */
static GError *
command_error (CasementVm   *self,
               const char   *what,
               const GError *error)
{
  if (g_error_matches (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_COMMAND_FAILED))
    return g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_FAILED,
                        _("QEMU could not %s: %s"), what, error->message);

  if (g_error_matches (error, CASEMENT_QMP_ERROR, CASEMENT_QMP_ERROR_DISCONNECTED))
    return g_error_new (CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING,
                        _("“%s” stopped before QEMU could %s"),
                        casement_vm_get_display_name (self), what);

  return g_error_copy (error);
}

typedef struct
{
  const char *what;
} CommandData;

static void
command_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  CommandData *data = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!(reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_error (task, command_error (self, data->what, error));
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&reply), (GDestroyNotify) json_node_unref);
}

/* Runs @command when the state is one of @allowed; the task returns the
 * reply's JsonNode. Takes @arguments (floating use: unreffed here). */
static void
casement_vm_command (CasementVm          *self,
                     guint                allowed,
                     const char          *command,
                     JsonNode            *arguments,
                     const char          *what,
                     gpointer             source_tag,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(JsonNode) args = arguments;
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  CommandData *data;

  g_assert (CASEMENT_IS_VM (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  if (!casement_vm_check_state (self, allowed, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (self->qmp == NULL)
    {
      g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_NOT_RUNNING,
                               _("“%s” is not connected: QEMU does not answer"),
                               casement_vm_get_display_name (self));
      return;
    }

  data = g_new0 (CommandData, 1);
  data->what = what;
  g_task_set_task_data (task, data, g_free);

  g_debug ("%s: %s", self->slug, command);
  casement_qmp_client_execute_async (self->qmp, command, args, cancellable,
                                     command_cb, g_steal_pointer (&task));
}

static gboolean
command_finish (CasementVm    *self,
                GAsyncResult  *result,
                gpointer       source_tag,
                GError       **error)
{
  g_autoptr(JsonNode) reply = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  return reply != NULL;
}

static JsonNode *
args_new (const char *first_member,
          ...)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *member;
  va_list ap;

  /* Pairs of member name and a JsonNode (taken). */
  json_builder_begin_object (builder);
  va_start (ap, first_member);
  for (member = first_member; member != NULL; member = va_arg (ap, const char *))
    {
      json_builder_set_member_name (builder, member);
      json_builder_add_value (builder, va_arg (ap, JsonNode *));
    }
  va_end (ap);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
string_node (const char *value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, value);
  return node;
}

static JsonNode *
int_node (gint64 value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (node, value);
  return node;
}

static JsonNode *
bool_node (gboolean value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_boolean (node, value);
  return node;
}

void
casement_vm_pause_async (CasementVm          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));

  casement_vm_command (self, STATE_BIT (RUNNING), "stop", NULL,
                       _("pause the virtual machine"), casement_vm_pause_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_pause_finish (CasementVm    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return command_finish (self, result, casement_vm_pause_async, error);
}

void
casement_vm_resume_async (CasementVm          *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));

  casement_vm_command (self, STATE_BIT (PAUSED), "cont", NULL,
                       _("resume the virtual machine"), casement_vm_resume_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_resume_finish (CasementVm    *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  return command_finish (self, result, casement_vm_resume_async, error);
}

void
casement_vm_reset_async (CasementVm          *self,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));

  casement_vm_command (self, LIVE_STATES, "system_reset", NULL,
                       _("reset the virtual machine"), casement_vm_reset_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_reset_finish (CasementVm    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return command_finish (self, result, casement_vm_reset_async, error);
}

static void
shutdown_powerdown_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  CasementVm *self = g_task_get_source_object (outer);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!(reply = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  if (self->state == CASEMENT_VM_STATE_STOPPED || self->state == CASEMENT_VM_STATE_CRASHED)
    {
      g_task_return_boolean (outer, TRUE);
      return;
    }

  casement_vm_add_waiter (self, outer,
                          GPOINTER_TO_UINT (g_task_get_task_data (outer)) * 1000);
}

void
casement_vm_shutdown_async (CasementVm          *self,
                            guint                timeout_seconds,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_VM (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_shutdown_async);
  g_task_set_task_data (task, GUINT_TO_POINTER (timeout_seconds ? timeout_seconds
                                                : CASEMENT_VM_DEFAULT_SHUTDOWN_TIMEOUT), NULL);

  /* A paused guest cannot see the power button: the request would only
   * run into the timeout. */
  casement_vm_command (self, STATE_BIT (RUNNING), "system_powerdown", NULL,
                       _("ask the guest to shut down"), casement_vm_shutdown_async,
                       cancellable, shutdown_powerdown_cb, g_steal_pointer (&task));
}

gboolean
casement_vm_shutdown_finish (CasementVm    *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
force_off_kill_cb (gpointer user_data)
{
  CasementVm *self = user_data;

  g_assert (CASEMENT_IS_VM (self));

  self->kill_timeout_id = 0;

  if (self->pid > 0 && self->run_dir != NULL && pid_belongs_to_vm (self->pid, self->run_dir))
    {
      g_debug ("%s: QEMU %d did not quit; killing its process group", self->slug, (int) self->pid);
      /* setsid() made QEMU its process group's leader. */
      kill (-self->pid, SIGKILL);
      kill (self->pid, SIGKILL);
    }

  casement_vm_follow_exit (self);
  return G_SOURCE_REMOVE;
}

static void
force_off_quit_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  /* QEMU often closes the socket before the reply: that is success. */
  reply = casement_qmp_client_execute_finish (CASEMENT_QMP_CLIENT (object), result, &error);
  if (reply == NULL)
    g_debug ("quit: %s", error->message);
}

void
casement_vm_force_off_async (CasementVm          *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_force_off_async);

  if (!casement_vm_check_state (self, LIVE_STATES | STATE_BIT (STOPPING), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->force_off = TRUE;
  casement_vm_add_waiter (self, task, 0);

  if (self->qmp != NULL)
    casement_qmp_client_execute_async (self->qmp, "quit", NULL, NULL, force_off_quit_cb, NULL);
  else if (self->pid > 0 && pid_belongs_to_vm (self->pid, self->run_dir))
    kill (self->pid, SIGTERM);

  if (self->kill_timeout_id == 0)
    self->kill_timeout_id = g_timeout_add (FORCE_OFF_KILL_DELAY_MS, force_off_kill_cb, self);
}

gboolean
casement_vm_force_off_finish (CasementVm    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
casement_vm_send_keys_async (CasementVm          *self,
                             const char * const  *qcodes,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (qcodes != NULL && qcodes[0] != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "keys");
  json_builder_begin_array (builder);
  for (guint i = 0; qcodes[i] != NULL; i++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "qcode");
      json_builder_set_member_name (builder, "data");
      json_builder_add_string_value (builder, qcodes[i]);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  casement_vm_command (self, STATE_BIT (RUNNING), "send-key", json_builder_get_root (builder),
                       _("send the keys"), casement_vm_send_keys_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_send_keys_finish (CasementVm    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return command_finish (self, result, casement_vm_send_keys_async, error);
}

void
casement_vm_change_cd_async (CasementVm          *self,
                             const char          *drive_id,
                             const char          *path,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autofree char *absolute = NULL;

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (drive_id != NULL);
  g_return_if_fail (path != NULL);

  /* QEMU resolves a relative path against its own working folder. */
  absolute = g_canonicalize_filename (path, NULL);

  casement_vm_command (self, LIVE_STATES, "blockdev-change-medium",
                       args_new ("id", string_node (drive_id),
                                 "filename", string_node (absolute),
                                 "format", string_node ("raw"),
                                 "read-only-mode", string_node ("read-only"),
                                 NULL),
                       _("change the CD"), casement_vm_change_cd_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_change_cd_finish (CasementVm    *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return command_finish (self, result, casement_vm_change_cd_async, error);
}

void
casement_vm_eject_async (CasementVm          *self,
                         const char          *drive_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (drive_id != NULL);

  casement_vm_command (self, LIVE_STATES, "eject",
                       args_new ("id", string_node (drive_id),
                                 "force", bool_node (TRUE),
                                 NULL),
                       _("eject the CD"), casement_vm_eject_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_eject_finish (CasementVm    *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return command_finish (self, result, casement_vm_eject_async, error);
}

void
casement_vm_set_balloon_async (CasementVm          *self,
                               guint64              target_bytes,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (target_bytes > 0 && target_bytes <= G_MAXINT64);

  casement_vm_command (self, LIVE_STATES, "balloon",
                       args_new ("value", int_node ((gint64) target_bytes), NULL),
                       _("change the guest’s memory"), casement_vm_set_balloon_async,
                       cancellable, callback, user_data);
}

gboolean
casement_vm_set_balloon_finish (CasementVm    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return command_finish (self, result, casement_vm_set_balloon_async, error);
}

/* Screendump: QEMU writes into the runtime folder (ours, private), and
 * the finished file is then moved into place, so @path never holds half
 * a picture. */
typedef struct
{
  char *temp_path;
  char *path;
} ScreendumpData;

static void
screendump_data_free (ScreendumpData *data)
{
  if (data->temp_path != NULL)
    g_unlink (data->temp_path);
  g_free (data->temp_path);
  g_free (data->path);
  g_free (data);
}

static void
screendump_move_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  ScreendumpData *data = task_data;
  g_autoptr(GFile) source = g_file_new_for_path (data->temp_path);
  g_autoptr(GFile) dest = g_file_new_for_path (data->path);
  g_autoptr(GError) error = NULL;

  if (!g_file_move (source, dest, G_FILE_COPY_OVERWRITE, cancellable, NULL, NULL, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, error->code,
                               _("Cannot save the screenshot as %s: %s"),
                               data->path, error->message);
      return;
    }

  g_clear_pointer (&data->temp_path, g_free);
  g_task_return_boolean (task, TRUE);
}

static void
screendump_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(JsonNode) reply = NULL;
  GError *error = NULL;

  if (!(reply = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_run_in_thread (task, screendump_move_thread);
}

void
casement_vm_screendump_async (CasementVm          *self,
                              const char          *path,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ScreendumpData *data;
  char random[9];

  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_screendump_async);

  g_snprintf (random, sizeof random, "%08x", g_random_int ());
  data = g_new0 (ScreendumpData, 1);
  data->path = g_canonicalize_filename (path, NULL);
  if (self->run_dir != NULL)
    data->temp_path = g_strdup_printf ("%s/" RUNTIME_SCREENDUMP_PREFIX "%s.png", self->run_dir, random);
  g_task_set_task_data (task, data, (GDestroyNotify) screendump_data_free);

  casement_vm_command (self, LIVE_STATES, "screendump",
                       data->temp_path == NULL ? NULL
                       : args_new ("filename", string_node (data->temp_path),
                                   "format", string_node ("png"),
                                   NULL),
                       _("take a screenshot"), casement_vm_screendump_async,
                       cancellable, screendump_cb, g_steal_pointer (&task));
}

gboolean
casement_vm_screendump_finish (CasementVm    *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

/* Internal snapshots through HMP savevm/loadvm/delvm rather than the
 * snapshot-save job API: the jobs need every disk as a named -blockdev
 * node, and our command line uses -drive. Listing reads query-block,
 * which has the snapshots of each image as structured data. */

void
casement_vm_snapshot_free (CasementVmSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;

  g_free (snapshot->name);
  g_free (snapshot);
}

typedef enum
{
  SNAPSHOT_CREATE,
  SNAPSHOT_REVERT,
  SNAPSHOT_DELETE,
  SNAPSHOT_LIST,
} SnapshotKind;

typedef enum
{
  SNAPSHOT_STEP_CHECK_ANON,
  SNAPSHOT_STEP_CHECK_PERIPHERAL,
  SNAPSHOT_STEP_LIST,
  SNAPSHOT_STEP_HMP,
} SnapshotStep;

typedef struct
{
  char         *name;
  GPtrArray    *snapshots;
  SnapshotKind  kind;
  SnapshotStep  step;
} SnapshotOp;

static void
snapshot_op_free (SnapshotOp *op)
{
  g_free (op->name);
  g_clear_pointer (&op->snapshots, g_ptr_array_unref);
  g_free (op);
}

static gboolean
snapshot_name_is_valid (const char *name)
{
  gboolean all_digits = TRUE;
  gsize len = 0;

  /* HMP splits its arguments on spaces, and takes a number as a
   * snapshot's id rather than its name. */
  for (const char *p = name; *p; p++, len++)
    {
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
        return FALSE;
      all_digits &= g_ascii_isdigit (*p);
    }

  return len > 0 && len <= 128 && !all_digits;
}

static gboolean
snapshot_exists (GPtrArray  *snapshots,
                 const char *name)
{
  for (guint i = 0; i < snapshots->len; i++)
    {
      CasementVmSnapshot *snapshot = g_ptr_array_index (snapshots, i);

      if (g_str_equal (snapshot->name, name))
        return TRUE;
    }

  return FALSE;
}

static gint
compare_snapshots (gconstpointer a,
                   gconstpointer b)
{
  const CasementVmSnapshot *sa = *(CasementVmSnapshot **) a;
  const CasementVmSnapshot *sb = *(CasementVmSnapshot **) b;

  if (sa->date_unix != sb->date_unix)
    return sa->date_unix < sb->date_unix ? -1 : 1;
  return g_strcmp0 (sa->name, sb->name);
}

/* json-glib 1.6 has no _with_default getters for these. */
static JsonObject *
object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* The snapshots present on every writable disk of a query-block reply:
 * one missing on some disk cannot be loaded. */
static GPtrArray *
parse_snapshots (JsonNode *reply)
{
  g_autoptr(GHashTable) found = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) casement_vm_snapshot_free);
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *snapshots = g_ptr_array_new_with_free_func ((GDestroyNotify) casement_vm_snapshot_free);
  JsonArray *devices;
  guint n_writable = 0;
  GHashTableIter iter;
  gpointer key;
  gpointer value;

  if (!JSON_NODE_HOLDS_ARRAY (reply))
    return snapshots;

  devices = json_node_get_array (reply);
  for (guint i = 0; i < json_array_get_length (devices); i++)
    {
      JsonObject *device = json_array_get_object_element (devices, i);
      JsonObject *inserted;
      JsonObject *image;
      JsonArray *list;

      if (device == NULL ||
          !(inserted = object_member (device, "inserted")) ||
          json_object_get_boolean_member_with_default (inserted, "ro", FALSE))
        continue;

      n_writable++;

      if (!(image = object_member (inserted, "image")) ||
          !(list = array_member (image, "snapshots")))
        continue;

      for (guint j = 0; j < json_array_get_length (list); j++)
        {
          JsonObject *entry = json_array_get_object_element (list, j);
          const char *name;
          CasementVmSnapshot *snapshot;
          guint64 vm_state_size;

          if (entry == NULL ||
              !(name = json_object_get_string_member_with_default (entry, "name", NULL)))
            continue;

          vm_state_size = json_object_get_int_member_with_default (entry, "vm-state-size", 0);
          snapshot = g_hash_table_lookup (found, name);
          if (snapshot == NULL)
            {
              snapshot = g_new0 (CasementVmSnapshot, 1);
              snapshot->name = g_strdup (name);
              snapshot->date_unix = json_object_get_int_member_with_default (entry, "date-sec", 0);
              snapshot->vm_clock_nsec =
                json_object_get_int_member_with_default (entry, "vm-clock-sec", 0) * G_GUINT64_CONSTANT (1000000000) +
                json_object_get_int_member_with_default (entry, "vm-clock-nsec", 0);
              g_hash_table_insert (found, snapshot->name, snapshot);
            }
          snapshot->vm_state_size = MAX (snapshot->vm_state_size, vm_state_size);
          g_hash_table_insert (counts, snapshot->name,
                               GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, snapshot->name)) + 1));
        }
    }

  g_hash_table_iter_init (&iter, found);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (GPOINTER_TO_UINT (g_hash_table_lookup (counts, key)) == n_writable)
        {
          g_hash_table_iter_steal (&iter);
          g_ptr_array_add (snapshots, value);
        }
    }

  g_ptr_array_sort (snapshots, compare_snapshots);
  return snapshots;
}

static void snapshot_step (GTask *task);

static void
snapshot_reply_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *self = g_task_get_source_object (task);
  SnapshotOp *op = g_task_get_task_data (task);
  g_autoptr(JsonNode) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (!(reply = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (op->step)
    {
    case SNAPSHOT_STEP_CHECK_ANON:
    case SNAPSHOT_STEP_CHECK_PERIPHERAL:
      {
        JsonArray *children = JSON_NODE_HOLDS_ARRAY (reply) ? json_node_get_array (reply) : NULL;

        for (guint i = 0; children != NULL && i < json_array_get_length (children); i++)
          {
            JsonObject *child = json_array_get_object_element (children, i);

            if (child != NULL &&
                g_strcmp0 (json_object_get_string_member_with_default (child, "type", NULL),
                           "child<vhost-user-fs-pci>") == 0)
              {
                guint major = 0, minor = 0;

                casement_qmp_client_get_qemu_version (self->qmp, &major, &minor, NULL);
                g_task_return_new_error (task, CASEMENT_VM_ERROR,
                                         CASEMENT_VM_ERROR_SNAPSHOT_UNSUPPORTED,
                                         _("“%s” shares a folder through virtiofs, and QEMU %u.%u "
                                           "cannot save a virtiofs device (QEMU 8.2 can). Shut the "
                                           "virtual machine down and choose another way to share "
                                           "the folder to use snapshots."),
                                         casement_vm_get_display_name (self), major, minor);
                return;
              }
          }
        op->step++;
        break;
      }

    case SNAPSHOT_STEP_LIST:
      g_clear_pointer (&op->snapshots, g_ptr_array_unref);
      op->snapshots = parse_snapshots (reply);

      if (op->kind == SNAPSHOT_LIST)
        {
          g_task_return_pointer (task, g_steal_pointer (&op->snapshots),
                                 (GDestroyNotify) g_ptr_array_unref);
          return;
        }

      if (op->kind == SNAPSHOT_CREATE && snapshot_exists (op->snapshots, op->name))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_EXISTS,
                                   _("“%s” already has a snapshot called “%s”; choose another name "
                                     "or delete that one first"),
                                   casement_vm_get_display_name (self), op->name);
          return;
        }

      if (op->kind != SNAPSHOT_CREATE && !snapshot_exists (op->snapshots, op->name))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                   _("“%s” has no snapshot called “%s”"),
                                   casement_vm_get_display_name (self), op->name);
          return;
        }
      op->step++;
      break;

    case SNAPSHOT_STEP_HMP:
      {
        const char *output = JSON_NODE_HOLDS_VALUE (reply) ? json_node_get_string (reply) : NULL;
        g_autofree char *text = g_strstrip (g_strdup (output ? output : ""));
        const char *message = text;

        /* HMP reports failure as text, not as a QMP error. */
        if (strstr (text, "Error") != NULL)
          {
            if (g_str_has_prefix (message, "Error: "))
              message += strlen ("Error: ");
            g_task_return_new_error (task, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_FAILED,
                                     op->kind == SNAPSHOT_CREATE
                                     ? _("QEMU could not take the snapshot “%s”: %s")
                                     : op->kind == SNAPSHOT_REVERT
                                     ? _("QEMU could not go back to the snapshot “%s”: %s")
                                     : _("QEMU could not delete the snapshot “%s”: %s"),
                                     op->name, message);
            return;
          }

        if (text[0] != '\0')
          g_debug ("HMP said: %s", text);
        g_task_return_boolean (task, TRUE);
        return;
      }

    default:
      g_assert_not_reached ();
    }

  snapshot_step (g_steal_pointer (&task));
}

static void
snapshot_step (GTask *task)
{
  CasementVm *self = g_task_get_source_object (task);
  SnapshotOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  guint major = 0, minor = 0;

  g_assert (CASEMENT_IS_VM (self));

  switch (op->step)
    {
    case SNAPSHOT_STEP_CHECK_ANON:
    case SNAPSHOT_STEP_CHECK_PERIPHERAL:
      if (self->qmp != NULL)
        casement_qmp_client_get_qemu_version (self->qmp, &major, &minor, NULL);

      if (op->kind == SNAPSHOT_LIST || op->kind == SNAPSHOT_DELETE ||
          major > 8 || (major == 8 && minor >= 2))
        {
          op->step = SNAPSHOT_STEP_LIST;
          snapshot_step (task);
          return;
        }

      casement_vm_command (self, LIVE_STATES, "qom-list",
                           args_new ("path", string_node (op->step == SNAPSHOT_STEP_CHECK_ANON
                                                          ? "/machine/peripheral-anon"
                                                          : "/machine/peripheral"),
                                     NULL),
                           _("list the devices"), snapshot_step,
                           cancellable, snapshot_reply_cb, task);
      return;

    case SNAPSHOT_STEP_LIST:
      casement_vm_command (self, LIVE_STATES, "query-block", NULL,
                           _("list the snapshots"), snapshot_step,
                           cancellable, snapshot_reply_cb, task);
      return;

    case SNAPSHOT_STEP_HMP:
      {
        static const char * const verbs[] = { "savevm", "loadvm", "delvm" };
        g_autofree char *command_line = g_strdup_printf ("%s %s", verbs[op->kind], op->name);

        casement_vm_command (self, LIVE_STATES, "human-monitor-command",
                             args_new ("command-line", string_node (command_line), NULL),
                             _("run the snapshot command"), snapshot_step,
                             cancellable, snapshot_reply_cb, task);
        return;
      }

    default:
      g_assert_not_reached ();
    }
}

static void
casement_vm_snapshot_op (CasementVm          *self,
                         SnapshotKind         kind,
                         const char          *name,
                         gpointer             source_tag,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SnapshotOp *op;

  g_assert (CASEMENT_IS_VM (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  if (kind != SNAPSHOT_LIST && !snapshot_name_is_valid (name))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("“%s” cannot name a snapshot: use letters, digits, “-”, “_” "
                                 "and “.”, and not only digits"),
                               name);
      return;
    }

  if (!casement_vm_check_state (self, LIVE_STATES, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  op = g_new0 (SnapshotOp, 1);
  op->kind = kind;
  op->name = g_strdup (name);
  op->step = SNAPSHOT_STEP_CHECK_ANON;
  g_task_set_task_data (task, op, (GDestroyNotify) snapshot_op_free);

  snapshot_step (g_steal_pointer (&task));
}

void
casement_vm_snapshot_create_async (CasementVm          *self,
                                   const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (name != NULL);

  casement_vm_snapshot_op (self, SNAPSHOT_CREATE, name, casement_vm_snapshot_create_async,
                           cancellable, callback, user_data);
}

gboolean
casement_vm_snapshot_create_finish (CasementVm    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
casement_vm_snapshot_revert_async (CasementVm          *self,
                                   const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (name != NULL);

  casement_vm_snapshot_op (self, SNAPSHOT_REVERT, name, casement_vm_snapshot_revert_async,
                           cancellable, callback, user_data);
}

gboolean
casement_vm_snapshot_revert_finish (CasementVm    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
casement_vm_snapshot_delete_async (CasementVm          *self,
                                   const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (name != NULL);

  casement_vm_snapshot_op (self, SNAPSHOT_DELETE, name, casement_vm_snapshot_delete_async,
                           cancellable, callback, user_data);
}

gboolean
casement_vm_snapshot_delete_finish (CasementVm    *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
casement_vm_snapshot_list_async (CasementVm          *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (CASEMENT_IS_VM (self));

  casement_vm_snapshot_op (self, SNAPSHOT_LIST, NULL, casement_vm_snapshot_list_async,
                           cancellable, callback, user_data);
}

GPtrArray *
casement_vm_snapshot_list_finish (CasementVm    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ */
/* GObject                                                             */
/* ------------------------------------------------------------------ */

CasementVm *
casement_vm_new (CasementVmStore *store,
                 const char      *slug)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (store), NULL);
  g_return_val_if_fail (slug != NULL && *slug != '\0', NULL);

  return g_object_new (CASEMENT_TYPE_VM,
                       "store", store,
                       "slug", slug,
                       NULL);
}

CasementVm *
casement_vm_new_for_cli (CasementVmStore *store,
                         const char      *slug)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (store), NULL);
  g_return_val_if_fail (slug != NULL && *slug != '\0', NULL);

  return g_object_new (CASEMENT_TYPE_VM,
                       "store", store,
                       "slug", slug,
                       "cli", TRUE,
                       NULL);
}

const char *
casement_vm_get_slug (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->slug;
}

/**
 * casement_vm_get_store:
 *
 * Returns: (transfer none): the store holding the VM's folder
 */
CasementVmStore *
casement_vm_get_store (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->store;
}

CasementVmState
casement_vm_get_state (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), CASEMENT_VM_STATE_STOPPED);

  return self->state;
}

CasementVmConfig *
casement_vm_get_config (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->config;
}

CasementQmpClient *
casement_vm_get_qmp_client (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->qmp;
}

const char *
casement_vm_get_last_error (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->last_error;
}

GPid
casement_vm_get_pid (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), 0);

  return self->pid;
}

CasementShareMethod
casement_vm_get_share_method (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), CASEMENT_SHARE_METHOD_NONE);

  return self->share_method;
}

const char *
casement_vm_get_share_reason (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->share_reason;
}

const char *
casement_vm_get_share_problem (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return self->share_problem;
}

char *
casement_vm_dup_vm_dir (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  return casement_vm_store_dup_vm_dir (self->store, self->slug);
}

char *
casement_vm_dup_runtime_dir (CasementVm  *self,
                             GError     **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), NULL);

  if (self->run_dir != NULL)
    return g_strdup (self->run_dir);

  return casement_util_dup_vm_runtime_dir (self->slug, error);
}

/**
 * casement_vm_get_install_poll_interval:
 *
 * Returns: how often, in seconds, the guest agent is asked whether an
 *   express install has finished
 */
guint
casement_vm_get_install_poll_interval (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), 0);

  return self->install_poll_interval;
}

void
casement_vm_set_install_poll_interval (CasementVm *self,
                                       guint       seconds)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (seconds > 0);

  if (self->install_poll_interval == seconds)
    return;

  self->install_poll_interval = seconds;
  if (self->install_poll_id != 0)
    {
      g_source_remove (self->install_poll_id);
      self->install_poll_id = g_timeout_add_seconds (seconds, install_poll_cb, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INSTALL_POLL_INTERVAL]);
}

int
casement_vm_get_boot_key_window (CasementVm *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM (self), -1);

  return self->boot_key_window;
}

void
casement_vm_set_boot_key_window (CasementVm *self,
                                 int         seconds)
{
  g_return_if_fail (CASEMENT_IS_VM (self));
  g_return_if_fail (seconds >= -1);

  if (self->boot_key_window == seconds)
    return;

  self->boot_key_window = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOOT_KEY_WINDOW]);
}

static void
casement_vm_dispose (GObject *object)
{
  CasementVm *self = (CasementVm *) object;

  /* Only our watching ends here: the VM itself runs on. */
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->exit_poll_id, g_source_remove);
  g_clear_handle_id (&self->kill_timeout_id, g_source_remove);
  casement_vm_drop_qmp (self);
  casement_vm_unwatch_virtiofsd (self);
  g_clear_object (&self->qemu);
  g_clear_object (&self->config);

  G_OBJECT_CLASS (casement_vm_parent_class)->dispose (object);
}

static void
casement_vm_finalize (GObject *object)
{
  CasementVm *self = (CasementVm *) object;

  g_assert (self->waiters == NULL);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_free (self->slug);
  g_free (self->run_dir);
  g_free (self->last_error);
  g_free (self->exit_detail);
  g_free (self->share_reason);
  g_free (self->share_problem);

  G_OBJECT_CLASS (casement_vm_parent_class)->finalize (object);
}

static void
casement_vm_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  CasementVm *self = CASEMENT_VM (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_SLUG:
      g_value_set_string (value, self->slug);
      break;

    case PROP_CLI:
      g_value_set_boolean (value, self->cli);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_CONFIG:
      g_value_set_object (value, self->config);
      break;

    case PROP_QMP_CLIENT:
      g_value_set_object (value, self->qmp);
      break;

    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;

    case PROP_SHARE_METHOD:
      g_value_set_enum (value, self->share_method);
      break;

    case PROP_SHARE_REASON:
      g_value_set_string (value, self->share_reason);
      break;

    case PROP_SHARE_PROBLEM:
      g_value_set_string (value, self->share_problem);
      break;

    case PROP_BOOT_KEY_WINDOW:
      g_value_set_int (value, self->boot_key_window);
      break;

    case PROP_INSTALL_POLL_INTERVAL:
      g_value_set_uint (value, self->install_poll_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  CasementVm *self = CASEMENT_VM (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_SLUG:
      self->slug = g_value_dup_string (value);
      break;

    case PROP_CLI:
      self->cli = g_value_get_boolean (value);
      break;

    case PROP_BOOT_KEY_WINDOW:
      casement_vm_set_boot_key_window (self, g_value_get_int (value));
      break;

    case PROP_INSTALL_POLL_INTERVAL:
      casement_vm_set_install_poll_interval (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_class_init (CasementVmClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = casement_vm_dispose;
  object_class->finalize = casement_vm_finalize;
  object_class->get_property = casement_vm_get_property;
  object_class->set_property = casement_vm_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         CASEMENT_TYPE_VM_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SLUG] =
    g_param_spec_string ("slug", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CLI] =
    g_param_spec_boolean ("cli", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       CASEMENT_TYPE_VM_STATE, CASEMENT_VM_STATE_STOPPED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CONFIG] =
    g_param_spec_object ("config", NULL, NULL,
                         CASEMENT_TYPE_VM_CONFIG,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_QMP_CLIENT] =
    g_param_spec_object ("qmp-client", NULL, NULL,
                         CASEMENT_TYPE_QMP_CLIENT,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SHARE_METHOD] =
    g_param_spec_enum ("share-method", NULL, NULL,
                       CASEMENT_TYPE_SHARE_METHOD, CASEMENT_SHARE_METHOD_NONE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SHARE_REASON] =
    g_param_spec_string ("share-reason", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_SHARE_PROBLEM] =
    g_param_spec_string ("share-problem", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* Seconds from QEMU's start during which Enter is pressed once a
   * second; -1 leaves it to casement_vm_boot_key_seconds(). */
  properties[PROP_BOOT_KEY_WINDOW] =
    g_param_spec_int ("boot-key-window", NULL, NULL,
                      -1, G_MAXINT, -1,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_INSTALL_POLL_INTERVAL] =
    g_param_spec_uint ("install-poll-interval", NULL, NULL,
                       1, G_MAXUINT, CASEMENT_VM_DEFAULT_INSTALL_POLL_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * CasementVm::install-finished:
   * @self: a #CasementVm
   *
   * The express install has run its last step: the answer medium is
   * ejected and deleted, and #CasementVm:config says installed.
   */
  signals[INSTALL_FINISHED] =
    g_signal_new ("install-finished",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
casement_vm_init (CasementVm *self)
{
  self->cancellable = g_cancellable_new ();
  self->virtiofsd_pidfd = -1;
  self->boot_key_window = -1;
  self->install_poll_interval = CASEMENT_VM_DEFAULT_INSTALL_POLL_INTERVAL;
}
