/* casement-library.c
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

#define G_LOG_DOMAIN "casement-library"

#include "config.h"

#include "casement-library.h"

struct _CasementLibrary
{
  GObject          parent_instance;

  CasementVmStore *store;
  GPtrArray       *vms;      /* CasementVm, sorted by slug */
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (CasementLibrary, casement_library, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  PROP_N_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GType
casement_library_get_item_type (GListModel *model)
{
  return CASEMENT_TYPE_VM;
}

static guint
casement_library_get_n_items (GListModel *model)
{
  return CASEMENT_LIBRARY (model)->vms->len;
}

static gpointer
casement_library_get_item (GListModel *model,
                           guint       position)
{
  CasementLibrary *self = CASEMENT_LIBRARY (model);

  if (position >= self->vms->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->vms, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = casement_library_get_item_type;
  iface->get_n_items = casement_library_get_n_items;
  iface->get_item = casement_library_get_item;
}

static gboolean
state_is_active (CasementVmState state)
{
  switch (state)
    {
    case CASEMENT_VM_STATE_STARTING:
    case CASEMENT_VM_STATE_RUNNING:
    case CASEMENT_VM_STATE_PAUSED:
    case CASEMENT_VM_STATE_STOPPING:
      return TRUE;

    case CASEMENT_VM_STATE_STOPPED:
    case CASEMENT_VM_STATE_CRASHED:
    default:
      return FALSE;
    }
}

guint
casement_library_count_active (CasementLibrary *self)
{
  guint n = 0;

  g_return_val_if_fail (CASEMENT_IS_LIBRARY (self), 0);

  for (guint i = 0; i < self->vms->len; i++)
    if (state_is_active (casement_vm_get_state (g_ptr_array_index (self->vms, i))))
      n++;

  return n;
}

static void
casement_library_vm_state_changed (CasementLibrary *self,
                                   GParamSpec      *pspec,
                                   CasementVm      *vm)
{
  g_assert (CASEMENT_IS_LIBRARY (self));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ACTIVE]);
}

static gboolean
casement_library_find (CasementLibrary *self,
                       const char      *slug,
                       guint           *position)
{
  for (guint i = 0; i < self->vms->len; i++)
    {
      int cmp = g_strcmp0 (casement_vm_get_slug (g_ptr_array_index (self->vms, i)), slug);

      if (cmp >= 0)
        {
          *position = i;
          return cmp == 0;
        }
    }

  *position = self->vms->len;
  return FALSE;
}

static void
casement_library_attach_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  CasementVm *vm = CASEMENT_VM (object);
  g_autoptr(GError) error = NULL;

  if (!casement_vm_attach_finish (vm, result, &error))
    g_debug ("Not attached to %s: %s", casement_vm_get_slug (vm), error->message);
}

static void
casement_library_list_worker (GTask        *task,
                              gpointer      source_object,
                              gpointer      task_data,
                              GCancellable *cancellable)
{
  CasementVmStore *store = task_data;
  GError *error = NULL;
  char **slugs;

  if (!(slugs = casement_vm_store_list (store, &error)))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, slugs, (GDestroyNotify) g_strfreev);
}

static void
casement_library_list_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  CasementLibrary *self = CASEMENT_LIBRARY (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) slugs = NULL;
  guint position;

  if (!(slugs = g_task_propagate_pointer (G_TASK (result), &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Drop VMs whose folder is gone, but never one that still runs: its
   * process is real whatever happened to the folder. */
  for (guint i = self->vms->len; i > 0; i--)
    {
      CasementVm *vm = g_ptr_array_index (self->vms, i - 1);

      if (!g_strv_contains ((const char * const *) slugs, casement_vm_get_slug (vm)) &&
          !state_is_active (casement_vm_get_state (vm)))
        {
          g_signal_handlers_disconnect_by_data (vm, self);
          g_ptr_array_remove_index (self->vms, i - 1);
          g_list_model_items_changed (G_LIST_MODEL (self), i - 1, 1, 0);
        }
    }

  for (guint i = 0; slugs[i] != NULL; i++)
    {
      g_autoptr(CasementVm) vm = NULL;

      if (casement_library_find (self, slugs[i], &position))
        continue;

      vm = casement_vm_new (self->store, slugs[i]);
      g_signal_connect_object (vm, "notify::state",
                               G_CALLBACK (casement_library_vm_state_changed),
                               self, G_CONNECT_SWAPPED);
      g_ptr_array_insert (self->vms, position, g_object_ref (vm));
      g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);

      casement_vm_attach_async (vm, NULL, casement_library_attach_cb, NULL);
    }

  g_task_return_boolean (task, TRUE);
}

void
casement_library_reload_async (CasementLibrary     *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) list = NULL;

  g_return_if_fail (CASEMENT_IS_LIBRARY (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, casement_library_reload_async);

  list = g_task_new (self, cancellable, casement_library_list_cb, g_steal_pointer (&task));
  g_task_set_task_data (list, g_object_ref (self->store), g_object_unref);
  g_task_run_in_thread (list, casement_library_list_worker);
}

gboolean
casement_library_reload_finish (CasementLibrary  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (CASEMENT_IS_LIBRARY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

CasementVm *
casement_library_lookup (CasementLibrary *self,
                         const char      *slug)
{
  guint position;

  g_return_val_if_fail (CASEMENT_IS_LIBRARY (self), NULL);
  g_return_val_if_fail (slug != NULL, NULL);

  if (casement_library_find (self, slug, &position))
    return g_ptr_array_index (self->vms, position);

  return NULL;
}

CasementVmStore *
casement_library_get_store (CasementLibrary *self)
{
  g_return_val_if_fail (CASEMENT_IS_LIBRARY (self), NULL);

  return self->store;
}

static void
casement_library_dispose (GObject *object)
{
  CasementLibrary *self = (CasementLibrary *)object;

  for (guint i = 0; i < self->vms->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->vms, i), self);
  g_ptr_array_set_size (self->vms, 0);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (casement_library_parent_class)->dispose (object);
}

static void
casement_library_finalize (GObject *object)
{
  CasementLibrary *self = (CasementLibrary *)object;

  g_clear_pointer (&self->vms, g_ptr_array_unref);

  G_OBJECT_CLASS (casement_library_parent_class)->finalize (object);
}

static void
casement_library_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  CasementLibrary *self = CASEMENT_LIBRARY (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_N_ACTIVE:
      g_value_set_uint (value, casement_library_count_active (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
casement_library_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  CasementLibrary *self = CASEMENT_LIBRARY (object);

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
casement_library_class_init (CasementLibraryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = casement_library_dispose;
  object_class->finalize = casement_library_finalize;
  object_class->get_property = casement_library_get_property;
  object_class->set_property = casement_library_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         CASEMENT_TYPE_VM_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /* VMs that run (or are starting or stopping): what keeps the app alive. */
  properties[PROP_N_ACTIVE] =
    g_param_spec_uint ("n-active", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
casement_library_init (CasementLibrary *self)
{
  self->vms = g_ptr_array_new_with_free_func (g_object_unref);
}

CasementLibrary *
casement_library_new (CasementVmStore *store)
{
  g_return_val_if_fail (CASEMENT_IS_VM_STORE (store), NULL);

  return g_object_new (CASEMENT_TYPE_LIBRARY,
                       "store", store,
                       NULL);
}
