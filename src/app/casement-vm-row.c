/* casement-vm-row.c
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

#define G_LOG_DOMAIN "casement-vm-row"

#include "config.h"

#include <glib/gi18n.h>

#include "casement-media.h"
#include "casement-vm-row.h"
#include "casement-vm-settings.h"
#include "casement-window.h"

/* Pixels the thumbnail is decoded at: its 80 × 50 place at twice the density. */
#define THUMBNAIL_WIDTH  160
#define THUMBNAIL_HEIGHT 100

struct _CasementVmRow
{
  AdwActionRow  parent_instance;

  /* Template widgets */
  GtkImage     *icon;
  GtkButton    *start_button;
  GtkPicture   *thumbnail;
  GtkStack     *thumbnail_stack;

  /* Owned references */
  CasementVm   *vm;
  GFileMonitor *thumbnail_monitor;
  GCancellable *cancellable;

  /* The library window waits for the guest to power off. */
  guint         shutting_down : 1;
};

G_DEFINE_FINAL_TYPE (CasementVmRow, casement_vm_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_VM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
casement_vm_state_to_label (CasementVmState state)
{
  switch (state)
    {
    case CASEMENT_VM_STATE_STOPPED:
      return _("Stopped");
    case CASEMENT_VM_STATE_STARTING:
      return _("Starting…");
    case CASEMENT_VM_STATE_RUNNING:
      return _("Running");
    case CASEMENT_VM_STATE_PAUSED:
      return _("Paused");
    case CASEMENT_VM_STATE_STOPPING:
      return _("Shutting down…");
    case CASEMENT_VM_STATE_CRASHED:
      return _("Crashed");
    default:
      g_return_val_if_reached ("");
    }
}

/* Errors belong to the window the row sits in, as a toast. */
static void
casement_vm_row_toast (CasementVmRow *self,
                       AdwToast      *toast)
{
  GtkWidget *overlay;

  g_assert (CASEMENT_IS_VM_ROW (self));

  overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (g_object_ref_sink (toast));
}

static void
casement_vm_row_update (CasementVmRow *self)
{
  CasementVmState state;
  CasementVmConfig *config;
  g_autofree char *subtitle = NULL;
  const char *last_error;
  const char *os = NULL;

  g_assert (CASEMENT_IS_VM_ROW (self));

  state = casement_vm_get_state (self->vm);
  config = casement_vm_get_config (self->vm);
  last_error = casement_vm_get_last_error (self->vm);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self),
                                 casement_vm_get_display_name (self->vm));

  if (config != NULL && casement_vm_config_is_windows (config))
    {
      os = casement_media_get_os_name (casement_vm_config_get_os_id (config));
      gtk_image_set_from_icon_name (self->icon, "computer-symbolic");
    }
  else if (config != NULL)
    {
      os = _("Linux");
      gtk_image_set_from_icon_name (self->icon, "utilities-terminal-symbolic");
    }

  /* QEMU's state says "running" until the guest takes the power button:
   * meanwhile the row says what the user asked for. */
  if (self->shutting_down && (state == CASEMENT_VM_STATE_RUNNING || state == CASEMENT_VM_STATE_PAUSED))
    state = CASEMENT_VM_STATE_STOPPING;

  if (state == CASEMENT_VM_STATE_CRASHED && last_error != NULL)
    subtitle = g_strdup_printf ("%s — %s", casement_vm_state_to_label (state), last_error);
  else
    subtitle = g_strdup (casement_vm_state_to_label (state));
  if (os != NULL)
    {
      /* Translators: a VM's system and its state, e.g. "Windows 11 · Running" */
      g_autofree char *with_os = g_strdup_printf (_("%s · %s"), os, subtitle);

      g_free (subtitle);
      subtitle = g_steal_pointer (&with_os);
    }
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "row.start",
                                 state == CASEMENT_VM_STATE_STOPPED ||
                                 state == CASEMENT_VM_STATE_CRASHED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "row.shut-down",
                                 state == CASEMENT_VM_STATE_RUNNING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "row.force-off",
                                 state == CASEMENT_VM_STATE_RUNNING ||
                                 state == CASEMENT_VM_STATE_PAUSED ||
                                 state == CASEMENT_VM_STATE_STOPPING);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "row.settings",
                                 state == CASEMENT_VM_STATE_STOPPED ||
                                 state == CASEMENT_VM_STATE_CRASHED);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "row.delete",
                                 state == CASEMENT_VM_STATE_STOPPED ||
                                 state == CASEMENT_VM_STATE_CRASHED);
  gtk_widget_set_visible (GTK_WIDGET (self->start_button),
                          state == CASEMENT_VM_STATE_STOPPED ||
                          state == CASEMENT_VM_STATE_CRASHED);
}

/* ---- The thumbnail ------------------------------------------------------- */

char *
casement_vm_row_dup_thumbnail_path (CasementVm *vm)
{
  g_autofree char *vm_dir = NULL;

  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  vm_dir = casement_vm_dup_vm_dir (vm);

  return g_build_filename (vm_dir, CASEMENT_VM_THUMBNAIL_FILE, NULL);
}

static void
casement_vm_row_thumbnail_saved (GObject      *object,
                                 GAsyncResult *result,
                                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!casement_vm_screendump_finish (CASEMENT_VM (object), result, &error))
    {
      g_debug ("No thumbnail for %s: %s", casement_vm_get_slug (CASEMENT_VM (object)), error->message);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

void
casement_vm_row_save_thumbnail_async (CasementVm          *vm,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *path = NULL;

  g_return_if_fail (CASEMENT_IS_VM (vm));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (vm, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_row_save_thumbnail_async);

  path = casement_vm_row_dup_thumbnail_path (vm);
  casement_vm_screendump_async (vm, path, cancellable,
                                casement_vm_row_thumbnail_saved, g_steal_pointer (&task));
}

gboolean
casement_vm_row_save_thumbnail_finish (CasementVm    *vm,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (vm), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, vm), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
thumbnail_load_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  const char *path = task_data;
  GdkPixbuf *pixbuf;
  GError *error = NULL;

  if (!(pixbuf = gdk_pixbuf_new_from_file_at_scale (path, THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT, TRUE, &error)))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, pixbuf, g_object_unref);
}

static void
casement_vm_row_thumbnail_loaded (GObject      *object,
                                  GAsyncResult *result,
                                  gpointer      user_data)
{
  CasementVmRow *self = CASEMENT_VM_ROW (object);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;

  if (!(pixbuf = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_debug ("Cannot show the thumbnail of %s: %s", casement_vm_get_slug (self->vm), error->message);
      gtk_picture_set_paintable (self->thumbnail, NULL);
      gtk_stack_set_visible_child_name (self->thumbnail_stack, "icon");
      return;
    }

  texture = gdk_texture_new_for_pixbuf (pixbuf);
  gtk_picture_set_paintable (self->thumbnail, GDK_PAINTABLE (texture));
  gtk_stack_set_visible_child_name (self->thumbnail_stack, "thumbnail");
}

static void
casement_vm_row_load_thumbnail (CasementVmRow *self)
{
  g_autoptr(GTask) task = NULL;

  g_assert (CASEMENT_IS_VM_ROW (self));

  task = g_task_new (self, self->cancellable, casement_vm_row_thumbnail_loaded, NULL);
  g_task_set_source_tag (task, casement_vm_row_load_thumbnail);
  g_task_set_task_data (task, casement_vm_row_dup_thumbnail_path (self->vm), g_free);
  g_task_run_in_thread (task, thumbnail_load_thread);
}

static void
casement_vm_row_thumbnail_changed (CasementVmRow     *self,
                                   GFile             *file,
                                   GFile             *other_file,
                                   GFileMonitorEvent  event,
                                   GFileMonitor      *monitor)
{
  g_assert (CASEMENT_IS_VM_ROW (self));

  if (event == G_FILE_MONITOR_EVENT_CREATED ||
      event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT ||
      event == G_FILE_MONITOR_EVENT_DELETED)
    casement_vm_row_load_thumbnail (self);
}

/* ---- Shutting down -------------------------------------------------------- */

static void
casement_vm_row_shut_down_done (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!casement_vm_shutdown_finish (CASEMENT_VM (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
casement_vm_row_shut_down_resumed (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  guint timeout = GPOINTER_TO_UINT (g_task_get_task_data (task));
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (!casement_vm_resume_finish (CASEMENT_VM (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  casement_vm_shutdown_async (CASEMENT_VM (object), timeout, cancellable,
                              casement_vm_row_shut_down_done, g_steal_pointer (&task));
}

static void
casement_vm_row_shut_down_screen_saved (GObject      *object,
                                        GAsyncResult *result,
                                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  guint timeout = GPOINTER_TO_UINT (g_task_get_task_data (task));
  GCancellable *cancellable = g_task_get_cancellable (task);

  /* A missing thumbnail is no reason to keep the VM running (it said why
   * in the debug log). */
  casement_vm_row_save_thumbnail_finish (vm, result, NULL);

  /* A paused guest cannot see the power button: it runs again first, so
   * that it can power off by itself rather than be forced. */
  if (casement_vm_get_state (vm) == CASEMENT_VM_STATE_PAUSED)
    casement_vm_resume_async (vm, cancellable, casement_vm_row_shut_down_resumed, g_steal_pointer (&task));
  else
    casement_vm_shutdown_async (vm, timeout, cancellable,
                                casement_vm_row_shut_down_done, g_steal_pointer (&task));
}

void
casement_vm_row_shut_down_async (CasementVm          *vm,
                                 guint                timeout_seconds,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_VM (vm));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (vm, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_vm_row_shut_down_async);
  g_task_set_task_data (task, GUINT_TO_POINTER (timeout_seconds), NULL);

  /* The screen first: once the guest powers off there is none. */
  casement_vm_row_save_thumbnail_async (vm, cancellable,
                                        casement_vm_row_shut_down_screen_saved, g_steal_pointer (&task));
}

gboolean
casement_vm_row_shut_down_finish (CasementVm    *vm,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (CASEMENT_IS_VM (vm), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, vm), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
casement_vm_row_start_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(CasementVmRow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_start_finish (CASEMENT_VM (object), result, &error))
    {
      AdwToast *toast = adw_toast_new_format (_("Could not start: %s"), error->message);

      adw_toast_set_timeout (toast, 0);
      casement_vm_row_toast (self, toast);
    }
}

static void
casement_vm_row_start_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);

  casement_vm_start_async (self->vm, NULL, NULL, casement_vm_row_start_cb, g_object_ref (self));
}

static void
casement_vm_row_force_off_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(CasementVmRow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_vm_force_off_finish (CASEMENT_VM (object), result, &error))
    casement_vm_row_toast (self, adw_toast_new_format (_("Could not force off: %s"), error->message));
}

static void
casement_vm_row_force_off_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);

  casement_vm_force_off_async (self->vm, NULL, casement_vm_row_force_off_cb, g_object_ref (self));
}

static void
casement_vm_row_shut_down_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);

  /* The window follows the shutdown: rows come and go with the search. */
  gtk_widget_activate_action (widget, "win.shut-down-vm", "s", casement_vm_get_slug (self->vm));
}

static void
casement_vm_row_open_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);

  gtk_widget_activate_action (widget, "app.open-vm", "s", casement_vm_get_slug (self->vm));
}

static void
casement_vm_row_settings_action (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  CasementHost *host = NULL;

  /* The library window probed the host already: no need to wait again. */
  if (CASEMENT_IS_WINDOW (root))
    host = casement_window_get_host (CASEMENT_WINDOW (root));

  casement_vm_settings_show (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->vm, host);
}

static void
casement_vm_row_delete_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  CasementVmRow *self = CASEMENT_VM_ROW (widget);

  /* The window owns the library the VM goes from. */
  gtk_widget_activate_action (widget, "win.delete-vm", "s", casement_vm_get_slug (self->vm));
}

static void
casement_vm_row_constructed (GObject *object)
{
  CasementVmRow *self = (CasementVmRow *)object;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  G_OBJECT_CLASS (casement_vm_row_parent_class)->constructed (object);

  path = casement_vm_row_dup_thumbnail_path (self->vm);
  file = g_file_new_for_path (path);
  if ((self->thumbnail_monitor = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, &error)))
    g_signal_connect_object (self->thumbnail_monitor, "changed",
                             G_CALLBACK (casement_vm_row_thumbnail_changed), self, G_CONNECT_SWAPPED);
  else
    g_debug ("Cannot watch %s: %s", path, error->message);
  casement_vm_row_load_thumbnail (self);

  g_signal_connect_object (self->vm, "notify::state",
                           G_CALLBACK (casement_vm_row_update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->vm, "notify::config",
                           G_CALLBACK (casement_vm_row_update), self, G_CONNECT_SWAPPED);
  casement_vm_row_update (self);
}

static void
casement_vm_row_dispose (GObject *object)
{
  CasementVmRow *self = (CasementVmRow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->thumbnail_monitor != NULL)
    g_file_monitor_cancel (self->thumbnail_monitor);
  g_clear_object (&self->thumbnail_monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), CASEMENT_TYPE_VM_ROW);
  g_clear_object (&self->vm);

  G_OBJECT_CLASS (casement_vm_row_parent_class)->dispose (object);
}

static void
casement_vm_row_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  CasementVmRow *self = CASEMENT_VM_ROW (object);

  switch (prop_id)
    {
    case PROP_VM:
      g_value_set_object (value, self->vm);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_row_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  CasementVmRow *self = CASEMENT_VM_ROW (object);

  switch (prop_id)
    {
    case PROP_VM:
      self->vm = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_vm_row_class_init (CasementVmRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = casement_vm_row_constructed;
  object_class->dispose = casement_vm_row_dispose;
  object_class->get_property = casement_vm_row_get_property;
  object_class->set_property = casement_vm_row_set_property;

  properties[PROP_VM] =
    g_param_spec_object ("vm", NULL, NULL,
                         CASEMENT_TYPE_VM,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-vm-row.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementVmRow, icon);
  gtk_widget_class_bind_template_child (widget_class, CasementVmRow, start_button);
  gtk_widget_class_bind_template_child (widget_class, CasementVmRow, thumbnail);
  gtk_widget_class_bind_template_child (widget_class, CasementVmRow, thumbnail_stack);

  gtk_widget_class_install_action (widget_class, "row.open", NULL, casement_vm_row_open_action);
  gtk_widget_class_install_action (widget_class, "row.start", NULL, casement_vm_row_start_action);
  gtk_widget_class_install_action (widget_class, "row.shut-down", NULL, casement_vm_row_shut_down_action);
  gtk_widget_class_install_action (widget_class, "row.force-off", NULL, casement_vm_row_force_off_action);
  gtk_widget_class_install_action (widget_class, "row.settings", NULL, casement_vm_row_settings_action);
  gtk_widget_class_install_action (widget_class, "row.delete", NULL, casement_vm_row_delete_action);
}

static void
casement_vm_row_init (CasementVmRow *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
casement_vm_row_new (CasementVm *vm)
{
  g_return_val_if_fail (CASEMENT_IS_VM (vm), NULL);

  return g_object_new (CASEMENT_TYPE_VM_ROW,
                       "vm", vm,
                       NULL);
}

CasementVm *
casement_vm_row_get_vm (CasementVmRow *self)
{
  g_return_val_if_fail (CASEMENT_IS_VM_ROW (self), NULL);

  return self->vm;
}

void
casement_vm_row_set_shutting_down (CasementVmRow *self,
                                   gboolean       shutting_down)
{
  g_return_if_fail (CASEMENT_IS_VM_ROW (self));

  shutting_down = !!shutting_down;
  if (self->shutting_down == shutting_down)
    return;

  self->shutting_down = shutting_down;
  casement_vm_row_update (self);
}
