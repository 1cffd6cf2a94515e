/* casement-settings.c
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

#define G_LOG_DOMAIN "casement-settings"

#include "config.h"

#include "casement-settings.h"

/**
 * casement_settings_new:
 *
 * Looks the schema up first: g_settings_new() aborts on a missing one.
 *
 * Returns: (transfer full) (nullable): the preferences, or %NULL without
 *   the schema
 */
GSettings *
casement_settings_new (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL || !(schema = g_settings_schema_source_lookup (source, APP_ID, TRUE)))
    {
      g_debug ("No settings schema %s: the defaults apply", APP_ID);
      return NULL;
    }

  return g_settings_new_full (schema, NULL, NULL);
}

/**
 * casement_settings_new_vm_store:
 * @settings: (nullable): from casement_settings_new()
 *
 * Returns: (transfer full): the store the library lists
 */
CasementVmStore *
casement_settings_new_vm_store (GSettings *settings)
{
  g_autofree char *folder = NULL;

  g_return_val_if_fail (!settings || G_IS_SETTINGS (settings), NULL);

  if (settings != NULL)
    folder = g_settings_get_string (settings, "vm-folder");

  return casement_vm_store_new (folder != NULL && folder[0] != '\0' ? folder : NULL);
}
