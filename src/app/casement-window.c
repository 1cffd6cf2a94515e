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

#include "casement-window.h"

struct _CasementWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  GtkStack             *stack;
  GtkListBox           *vm_list;
  AdwToastOverlay      *toast_overlay;

  /* Owned references */
  CasementVmStore      *store;
  GCancellable         *cancellable;
};

G_DEFINE_FINAL_TYPE (CasementWindow, casement_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char *slug;
  char *title;
  char *subtitle;
} VmRow;

static void
vm_row_free (gpointer data)
{
  VmRow *row = data;

  g_free (row->slug);
  g_free (row->title);
  g_free (row->subtitle);
  g_free (row);
}

/* Runs in a worker thread: reading every vm.json is file I/O. */
static void
casement_window_load_worker (GTask        *task,
                             gpointer      source_object,
                             gpointer      task_data,
                             GCancellable *cancellable)
{
  CasementVmStore *store = task_data;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func (vm_row_free);
  g_auto(GStrv) slugs = NULL;
  g_autoptr(GError) error = NULL;

  if (!(slugs = casement_vm_store_list (store, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; slugs[i] != NULL; i++)
    {
      g_autoptr(CasementVmConfig) config = NULL;
      g_autoptr(GError) load_error = NULL;
      VmRow *row = g_new0 (VmRow, 1);

      row->slug = g_strdup (slugs[i]);
      config = casement_vm_store_load (store, slugs[i], &load_error);
      if (config != NULL)
        {
          row->title = g_strdup (casement_vm_config_get_name (config));
          row->subtitle = g_strdup_printf (_("%u CPUs · %.1f GiB memory"),
                                           casement_vm_config_get_cpus (config),
                                           casement_vm_config_get_memory_mib (config) / 1024.0);
        }
      else
        {
          row->title = g_strdup (slugs[i]);
          row->subtitle = g_strdup (load_error->message);
        }
      g_ptr_array_add (rows, row);
    }

  g_task_return_pointer (task, g_steal_pointer (&rows), (GDestroyNotify) g_ptr_array_unref);
}

static void
casement_window_load_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  CasementWindow *self = CASEMENT_WINDOW (object);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *child;

  if (!(rows = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Cannot list virtual machines: %s", error->message);
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->vm_list))))
    gtk_list_box_remove (self->vm_list, child);

  for (guint i = 0; i < rows->len; i++)
    {
      const VmRow *row = g_ptr_array_index (rows, i);
      GtkWidget *action_row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (action_row), row->title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (action_row), row->subtitle);
      adw_action_row_add_prefix (ADW_ACTION_ROW (action_row),
                                 gtk_image_new_from_icon_name ("computer-symbolic"));
      gtk_widget_set_name (action_row, row->slug);
      gtk_list_box_append (self->vm_list, action_row);
    }

  gtk_stack_set_visible_child_name (self->stack, rows->len > 0 ? "list" : "empty");
}

void
casement_window_reload (CasementWindow *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (CASEMENT_IS_WINDOW (self));

  task = g_task_new (self, self->cancellable, casement_window_load_cb, NULL);
  g_task_set_source_tag (task, casement_window_reload);
  g_task_set_task_data (task, g_object_ref (self->store), g_object_unref);
  g_task_run_in_thread (task, casement_window_load_worker);
}

static void
casement_window_constructed (GObject *object)
{
  CasementWindow *self = (CasementWindow *)object;

  G_OBJECT_CLASS (casement_window_parent_class)->constructed (object);

  casement_window_reload (self);
}

static void
casement_window_dispose (GObject *object)
{
  CasementWindow *self = (CasementWindow *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);

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
    case PROP_STORE:
      self->store = g_value_dup_object (value);
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

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         CASEMENT_TYPE_VM_STORE,
                         G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/casement/Casement/ui/casement-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CasementWindow, vm_list);
}

static void
casement_window_init (CasementWindow *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
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
                     CasementVmStore *store)
{
  g_return_val_if_fail (ADW_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (store), NULL);

  return g_object_new (CASEMENT_TYPE_WINDOW,
                       "application", application,
                       "store", store,
                       NULL);
}
