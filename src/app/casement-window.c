/* casement-window.c
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

#define G_LOG_DOMAIN "casement-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "casement-application.h"
#include "casement-vm-row.h"
#include "casement-vm-settings.h"
#include "casement-vm-window.h"
#include "casement-window.h"

/* From this many VMs on, the header bar offers search; Ctrl+F always works. */
#define SEARCH_BUTTON_MIN_VMS 6

struct _CasementWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  GtkLabel             *problems_label;
  GtkRevealer          *problems_revealer;
  GtkSearchBar         *search_bar;
  GtkToggleButton      *search_button;
  GtkSearchEntry       *search_entry;
  GtkStack             *stack;
  AdwToastOverlay      *toast_overlay;
  GtkListBox           *vm_list;

  /* Owned references */
  CasementLibrary      *library;
  CasementHost         *host;
  GtkCustomFilter      *filter;
  GtkFilterListModel   *filtered;
  GCancellable         *cancellable;
  GHashTable           *shutting_down; /* CasementVm → NULL: shutdowns waited for */
  char                 *search;        /* casefolded, or NULL for all */
};

G_DEFINE_FINAL_TYPE (CasementWindow, casement_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_LIBRARY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GtkWidget *
casement_window_create_row (gpointer item,
                            gpointer user_data)
{
  CasementWindow *self = user_data;
  GtkWidget *row = casement_vm_row_new (CASEMENT_VM (item));

  g_assert (CASEMENT_IS_WINDOW (self));

  casement_vm_row_set_shutting_down (CASEMENT_VM_ROW (row), g_hash_table_contains (self->shutting_down, item));

  return row;
}

static void
casement_window_update_empty (CasementWindow *self)
{
  guint n_items;
  guint n_shown;

  g_assert (CASEMENT_IS_WINDOW (self));

  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->library));
  n_shown = g_list_model_get_n_items (G_LIST_MODEL (self->filtered));

  if (n_items == 0)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  else if (n_shown == 0)
    gtk_stack_set_visible_child_name (self->stack, "no-results");
  else
    gtk_stack_set_visible_child_name (self->stack, "list");

  gtk_widget_set_visible (GTK_WIDGET (self->search_button), n_items >= SEARCH_BUTTON_MIN_VMS);
}

/* ---- Search --------------------------------------------------------------- */

/* One form for the name and the search, so "É" finds "é" however typed. */
static char *
fold (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text, -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normalized != NULL ? normalized : text, -1);
}

static gboolean
casement_window_filter_vm (gpointer item,
                           gpointer user_data)
{
  CasementWindow *self = user_data;
  CasementVm *vm = item;
  g_autofree char *name = NULL;

  if (self->search == NULL)
    return TRUE;

  name = fold (casement_vm_get_display_name (vm));

  return strstr (name, self->search) != NULL;
}

static void
casement_window_search_changed (CasementWindow *self)
{
  const char *text;

  g_assert (CASEMENT_IS_WINDOW (self));

  text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_clear_pointer (&self->search, g_free);
  if (text[0] != '\0')
    self->search = fold (text);

  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  casement_window_update_empty (self);
}

static void
casement_window_search_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  CasementWindow *self = CASEMENT_WINDOW (widget);

  gtk_search_bar_set_search_mode (self->search_bar, !gtk_search_bar_get_search_mode (self->search_bar));
}

/* A VM renamed in its settings moves in or out of the search. */
static void
casement_window_vm_config_changed (CasementWindow *self)
{
  g_assert (CASEMENT_IS_WINDOW (self));

  if (self->search != NULL)
    {
      gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
      casement_window_update_empty (self);
    }
}

static void
casement_window_items_changed (CasementWindow *self,
                               guint           position,
                               guint           removed,
                               guint           added,
                               GListModel     *model)
{
  g_assert (CASEMENT_IS_WINDOW (self));

  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(CasementVm) vm = g_list_model_get_item (model, i);

      g_signal_connect_object (vm, "notify::config",
                               G_CALLBACK (casement_window_vm_config_changed), self, G_CONNECT_SWAPPED);
    }

  casement_window_update_empty (self);
}

/* ---- Host problems --------------------------------------------------------- */

static void
casement_window_probed (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(CasementWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) problems = NULL;
  g_autoptr(GString) text = NULL;

  if (!(self->host = casement_host_probe_finish (result, &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      /* Without QEMU nothing runs: that is the one problem to tell. */
      problems = g_new0 (char *, 2);
      problems[0] = g_strdup (error->message);
    }
  else
    {
      problems = casement_host_dup_problems (self->host);
    }

  if (problems[0] == NULL)
    return;

  text = g_string_new (NULL);
  for (guint i = 0; problems[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (text, '\n');
      if (problems[1] != NULL)
        g_string_append (text, "• ");
      g_string_append (text, problems[i]);
    }

  gtk_label_set_text (self->problems_label, text->str);
  gtk_revealer_set_reveal_child (self->problems_revealer, TRUE);
}

static void
casement_window_dismiss_problems_action (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *param)
{
  CasementWindow *self = CASEMENT_WINDOW (widget);

  gtk_revealer_set_reveal_child (self->problems_revealer, FALSE);
}

/* ---- Deleting a VM ------------------------------------------------------------ */

typedef struct
{
  CasementVmStore *store;
  char            *slug;
  char            *name;
  gboolean         keep_disk;
} DeleteData;

static void
delete_data_free (DeleteData *data)
{
  g_clear_object (&data->store);
  g_free (data->slug);
  g_free (data->name);
  g_free (data);
}

static void
delete_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  DeleteData *data = task_data;
  g_autofree char *kept = NULL;
  GError *error = NULL;

  if (!casement_vm_store_delete (data->store, data->slug, data->keep_disk, &kept, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_strdup (kept != NULL ? kept : ""), g_free);
}

static void
casement_window_deleted (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  CasementWindow *self = CASEMENT_WINDOW (object);
  DeleteData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = NULL;
  AdwToast *toast;

  if (!(kept = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      toast = adw_toast_new_format (_("Could not delete “%s”: %s"), data->name, error->message);
      adw_toast_set_timeout (toast, 0);
    }
  else if (kept[0] != '\0')
    {
      /* The dialog said in which folder; the name is what to look for. */
      g_autofree char *file_name = g_path_get_basename (kept);

      toast = adw_toast_new_format (_("Deleted “%s”; its disk is kept as %s"), data->name, file_name);
      adw_toast_set_timeout (toast, 0);
    }
  else
    {
      toast = adw_toast_new_format (_("Deleted “%s”"), data->name);
    }

  casement_window_add_toast (self, toast);
  casement_window_reload (self);
}

static void
casement_window_delete_response (CasementWindow   *self,
                                 const char       *response,
                                 AdwMessageDialog *dialog)
{
  const char *slug = g_object_get_data (G_OBJECT (dialog), "slug");
  g_autoptr(GTask) task = NULL;
  GtkApplication *application;
  CasementVmConfig *config;
  CasementVmState state;
  DeleteData *data;
  CasementVm *vm;
  GList *windows;

  g_assert (CASEMENT_IS_WINDOW (self));

  if (g_str_equal (response, "cancel") || !(vm = casement_library_lookup (self->library, slug)))
    return;

  /* It may have been started while the question was up. */
  state = casement_vm_get_state (vm);
  config = casement_vm_get_config (vm);
  if (state != CASEMENT_VM_STATE_STOPPED && state != CASEMENT_VM_STATE_CRASHED)
    {
      casement_window_add_toast (self, adw_toast_new (_("A running virtual machine cannot be deleted: shut it down first")));
      return;
    }

  data = g_new0 (DeleteData, 1);
  data->store = g_object_ref (casement_library_get_store (self->library));
  data->slug = g_strdup (slug);
  data->name = g_strdup (config != NULL ? casement_vm_config_get_name (config) : slug);
  data->keep_disk = g_str_equal (response, "keep-disk");

  /* Nothing may go on showing or editing what is about to go. */
  application = gtk_window_get_application (GTK_WINDOW (self));
  windows = application != NULL ? gtk_application_get_windows (application) : NULL;
  for (GList *l = windows; l != NULL;)
    {
      GtkWindow *window = l->data;

      l = l->next;
      if (CASEMENT_IS_VM_WINDOW (window) && casement_vm_window_get_vm (CASEMENT_VM_WINDOW (window)) == vm)
        gtk_window_destroy (window);
    }
  {
    GListModel *toplevels = gtk_window_get_toplevels ();

    for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
      {
        g_autoptr(GObject) window = g_list_model_get_item (toplevels, i - 1);

        if (CASEMENT_IS_VM_SETTINGS (window) && casement_vm_settings_get_vm (CASEMENT_VM_SETTINGS (window)) == vm)
          gtk_window_destroy (GTK_WINDOW (window));
      }
  }

  task = g_task_new (self, self->cancellable, casement_window_deleted, NULL);
  g_task_set_source_tag (task, casement_window_delete_response);
  g_task_set_task_data (task, data, (GDestroyNotify) delete_data_free);
  g_task_run_in_thread (task, delete_thread);
}

static void
casement_window_delete_vm_action (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  CasementWindow *self = CASEMENT_WINDOW (widget);
  const char *slug = g_variant_get_string (param, NULL);
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  CasementVmConfig *config;
  CasementVmState state;
  GtkWidget *dialog;
  CasementVm *vm;

  if (!(vm = casement_library_lookup (self->library, slug)))
    return;

  config = casement_vm_get_config (vm);
  state = casement_vm_get_state (vm);
  if (state != CASEMENT_VM_STATE_STOPPED && state != CASEMENT_VM_STATE_CRASHED)
    {
      casement_window_add_toast (self, adw_toast_new (_("A running virtual machine cannot be deleted: shut it down first")));
      return;
    }

  heading = g_strdup_printf (_("Delete “%s”?"), config != NULL ? casement_vm_config_get_name (config) : slug);
  body = g_strdup_printf (_("Its settings, snapshots and firmware variables are removed for good. "
                            "Keep the disk to use its data again: it stays in %s as %s.qcow2."),
                          casement_vm_store_get_root (casement_library_get_store (self->library)), slug);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "keep-disk", _("Delete, _Keep Disk"),
                                    "delete", _("_Delete Everything"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "keep-disk", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "slug", g_strdup (slug), g_free);
  g_signal_connect_object (dialog, "response",
                           G_CALLBACK (casement_window_delete_response), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Shutting a VM down ------------------------------------------------------- */

static void
casement_window_set_shutting_down (CasementWindow *self,
                                   CasementVm     *vm,
                                   gboolean        shutting_down)
{
  g_assert (CASEMENT_IS_WINDOW (self));
  g_assert (CASEMENT_IS_VM (vm));

  if (shutting_down)
    g_hash_table_add (self->shutting_down, g_object_ref (vm));
  else
    g_hash_table_remove (self->shutting_down, vm);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->vm_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (CASEMENT_IS_VM_ROW (child) && casement_vm_row_get_vm (CASEMENT_VM_ROW (child)) == vm)
      casement_vm_row_set_shutting_down (CASEMENT_VM_ROW (child), shutting_down);
}

/* An offer to force off is moot once the VM is off by other means. */
static void
casement_window_force_off_toast_vm_changed (AdwToast   *toast,
                                            GParamSpec *pspec,
                                            CasementVm *vm)
{
  CasementVmState state = casement_vm_get_state (vm);

  if (state == CASEMENT_VM_STATE_STOPPING ||
      state == CASEMENT_VM_STATE_STOPPED ||
      state == CASEMENT_VM_STATE_CRASHED)
    {
      g_signal_handlers_disconnect_by_func (vm, casement_window_force_off_toast_vm_changed, toast);
      adw_toast_dismiss (toast);
    }
}

static void
casement_window_shut_down_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(CasementWindow) self = user_data;
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;
  AdwToast *toast;

  casement_vm_row_shut_down_finish (vm, result, &error);

  /* Cancelled: the window went, there is nothing left to show it in. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  casement_window_set_shutting_down (self, vm, FALSE);
  if (error == NULL)
    return;

  if (!g_error_matches (error, CASEMENT_VM_ERROR, CASEMENT_VM_ERROR_TIMEOUT))
    {
      /* Translators: the first %s is the name of a virtual machine, the second what went wrong */
      title = g_markup_printf_escaped (_("Could not shut down “%s”: %s"),
                                       casement_vm_get_display_name (vm), error->message);
      toast = adw_toast_new (title);
      adw_toast_set_timeout (toast, 0);
      casement_window_add_toast (self, toast);
      return;
    }

  /* Offer, never decide: forcing off can lose the guest's unsaved work.
   * The offer stays until taken, dismissed, or the VM is off anyway. */
  /* Translators: %s is the name of a virtual machine */
  title = g_markup_printf_escaped (_("“%s” did not shut down"), casement_vm_get_display_name (vm));
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_Force Off"));
  adw_toast_set_action_name (toast, "app.force-off-vm");
  adw_toast_set_action_target (toast, "s", casement_vm_get_slug (vm));
  adw_toast_set_timeout (toast, 0);
  g_signal_connect_object (vm, "notify::state",
                           G_CALLBACK (casement_window_force_off_toast_vm_changed), toast, G_CONNECT_SWAPPED);
  casement_window_add_toast (self, toast);
}

static void
casement_window_shut_down_vm_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  CasementWindow *self = CASEMENT_WINDOW (widget);
  CasementVm *vm;

  if ((vm = casement_library_lookup (self->library, g_variant_get_string (param, NULL))))
    casement_window_shut_down_vm (self, vm);
}

static void
casement_window_reload_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  g_autoptr(CasementWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!casement_library_reload_finish (CASEMENT_LIBRARY (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    casement_window_add_toast (self, adw_toast_new_format (_("Cannot list virtual machines: %s"),
                                                           error->message));
}

void
casement_window_reload (CasementWindow *self)
{
  g_return_if_fail (CASEMENT_IS_WINDOW (self));

  casement_library_reload_async (self->library, self->cancellable,
                                 casement_window_reload_cb, g_object_ref (self));
}

static void
casement_window_constructed (GObject *object)
{
  CasementWindow *self = (CasementWindow *)object;

  G_OBJECT_CLASS (casement_window_parent_class)->constructed (object);

  self->filter = gtk_custom_filter_new (casement_window_filter_vm, self, NULL);
  self->filtered = gtk_filter_list_model_new (g_object_ref (G_LIST_MODEL (self->library)),
                                              g_object_ref (GTK_FILTER (self->filter)));
  gtk_list_box_bind_model (self->vm_list, G_LIST_MODEL (self->filtered),
                           casement_window_create_row, self, NULL);
  g_signal_connect_object (self->library, "items-changed",
                           G_CALLBACK (casement_window_items_changed), self, G_CONNECT_SWAPPED);
  casement_window_items_changed (self, 0, 0, g_list_model_get_n_items (G_LIST_MODEL (self->library)),
                                 G_LIST_MODEL (self->library));
  casement_window_reload (self);

  casement_host_probe_async (self->cancellable, casement_window_probed, g_object_ref (self));
}

static void
casement_window_dispose (GObject *object)
{
  CasementWindow *self = (CasementWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->vm_list != NULL)
    gtk_list_box_bind_model (self->vm_list, NULL, NULL, NULL, NULL);
  g_clear_object (&self->filtered);
  g_clear_object (&self->filter);
  g_clear_object (&self->library);
  g_clear_object (&self->host);
  g_clear_pointer (&self->shutting_down, g_hash_table_unref);
  g_clear_pointer (&self->search, g_free);

  G_OBJECT_CLASS (casement_window_parent_class)->dispose (object);
}

static void
casement_window_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  CasementWindow *self = CASEMENT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_LIBRARY:
      self->library = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_window_class_init (CasementWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = casement_window_constructed;
  object_class->dispose = casement_window_dispose;
  object_class->set_property = casement_window_set_property;

  properties[PROP_LIBRARY] =
    g_param_spec_object ("library", NULL, NULL,
                         CASEMENT_TYPE_LIBRARY,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, problems_label);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, problems_revealer);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, search_button);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, vm_list);
  gtk_widget_class_bind_template_callback (widget_class, casement_window_search_changed);

  gtk_widget_class_install_action (widget_class, "win.search", NULL, casement_window_search_action);
  gtk_widget_class_install_action (widget_class, "win.dismiss-problems", NULL,
                                   casement_window_dismiss_problems_action);
  gtk_widget_class_install_action (widget_class, "win.delete-vm", "s", casement_window_delete_vm_action);
  gtk_widget_class_install_action (widget_class, "win.shut-down-vm", "s", casement_window_shut_down_vm_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
}

static void
casement_window_init (CasementWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->shutting_down = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  gtk_widget_init_template (GTK_WIDGET (self));

  g_object_bind_property (self->search_button, "active", self->search_bar, "search-mode-enabled",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));
  gtk_search_bar_set_key_capture_widget (self->search_bar, GTK_WIDGET (self));
}

CasementHost *
casement_window_get_host (CasementWindow *self)
{
  g_return_val_if_fail (CASEMENT_IS_WINDOW (self), NULL);

  return self->host;
}

void
casement_window_add_toast (CasementWindow *self,
                           AdwToast       *toast)
{
  g_return_if_fail (CASEMENT_IS_WINDOW (self));
  g_return_if_fail (ADW_IS_TOAST (toast));

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

CasementWindow *
casement_window_new (AdwApplication  *application,
                     CasementLibrary *library)
{
  g_return_val_if_fail (ADW_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (CASEMENT_IS_LIBRARY (library), NULL);

  return g_object_new (CASEMENT_TYPE_WINDOW,
                       "application", application,
                       "library", library,
                       NULL);
}

void
casement_window_shut_down_vm (CasementWindow *self,
                              CasementVm     *vm)
{
  g_return_if_fail (CASEMENT_IS_WINDOW (self));
  g_return_if_fail (CASEMENT_IS_VM (vm));

  /* Once is enough: the guest has the power button already. */
  if (g_hash_table_contains (self->shutting_down, vm))
    return;

  casement_window_set_shutting_down (self, vm, TRUE);
  casement_vm_row_shut_down_async (vm, casement_application_get_shutdown_timeout (), self->cancellable,
                                   casement_window_shut_down_cb, g_object_ref (self));
}
