/* test-keymap.c
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

#include <linux/input-event-codes.h>

#include <glib.h>

#include "casement-keymap.h"

typedef struct
{
  guint       evdev;
  guint       xt;
  const char *name;
} KnownKey;

/* Checked against the PC keyboard set-1 tables (E0-prefixed keys as
 * 0x100 | code). */
static const KnownKey known_keys[] = {
  { KEY_ESC, 0x01, "Escape" },
  { KEY_A, 0x1e, "a" },
  { KEY_Z, 0x2c, "z" },
  { KEY_1, 0x02, "1" },
  { KEY_0, 0x0b, "0" },
  { KEY_ENTER, 0x1c, "Enter" },
  { KEY_SPACE, 0x39, "Space" },
  { KEY_BACKSPACE, 0x0e, "Backspace" },
  { KEY_TAB, 0x0f, "Tab" },
  { KEY_LEFTSHIFT, 0x2a, "Left Shift" },
  { KEY_RIGHTSHIFT, 0x36, "Right Shift" },
  { KEY_LEFTCTRL, 0x1d, "Left Ctrl" },
  { KEY_RIGHTCTRL, 0x11d, "Right Ctrl" },
  { KEY_LEFTALT, 0x38, "Left Alt" },
  { KEY_RIGHTALT, 0x138, "Right Alt / AltGr" },
  { KEY_CAPSLOCK, 0x3a, "Caps Lock" },
  { KEY_NUMLOCK, 0x45, "Num Lock" },
  { KEY_SCROLLLOCK, 0x46, "Scroll Lock" },
  { KEY_102ND, 0x56, "ISO <> key" },
  { KEY_F1, 0x3b, "F1" },
  { KEY_F10, 0x44, "F10" },
  { KEY_F11, 0x57, "F11" },
  { KEY_F12, 0x58, "F12" },
  { KEY_KP0, 0x52, "KP 0" },
  { KEY_KP7, 0x47, "KP 7" },
  { KEY_KPDOT, 0x53, "KP ." },
  { KEY_KPPLUS, 0x4e, "KP +" },
  { KEY_KPMINUS, 0x4a, "KP -" },
  { KEY_KPASTERISK, 0x37, "KP *" },
  { KEY_KPSLASH, 0x135, "KP /" },
  { KEY_KPENTER, 0x11c, "KP Enter" },
  { KEY_UP, 0x148, "Up" },
  { KEY_DOWN, 0x150, "Down" },
  { KEY_LEFT, 0x14b, "Left" },
  { KEY_RIGHT, 0x14d, "Right" },
  { KEY_HOME, 0x147, "Home" },
  { KEY_END, 0x14f, "End" },
  { KEY_PAGEUP, 0x149, "Page Up" },
  { KEY_PAGEDOWN, 0x151, "Page Down" },
  { KEY_INSERT, 0x152, "Insert" },
  { KEY_DELETE, 0x153, "Delete" },
  { KEY_LEFTMETA, 0x15b, "Left Windows" },
  { KEY_RIGHTMETA, 0x15c, "Right Windows" },
  { KEY_COMPOSE, 0x15d, "Menu" },
  { KEY_SYSRQ, 0x54, "Print Screen" },
  { KEY_PAUSE, 0x146, "Pause" },
  { KEY_MUTE, 0x120, "Mute" },
  { KEY_VOLUMEDOWN, 0x12e, "Volume Down" },
  { KEY_VOLUMEUP, 0x130, "Volume Up" },
  { KEY_PLAYPAUSE, 0x122, "Play/Pause" },
  { KEY_STOPCD, 0x124, "Stop" },
  { KEY_NEXTSONG, 0x119, "Next Track" },
  { KEY_PREVIOUSSONG, 0x110, "Previous Track" },
  { KEY_CALC, 0x121, "Calculator" },
  { KEY_HOMEPAGE, 0x132, "Browser Home" },
  { KEY_BACK, 0x16a, "Browser Back" },
  { KEY_FORWARD, 0x169, "Browser Forward" },
  { KEY_REFRESH, 0x167, "Browser Refresh" },
  { KEY_SEARCH, 0x165, "Browser Search" },
  { KEY_BOOKMARKS, 0x166, "Browser Favorites" },
  { KEY_MAIL, 0x16c, "Mail" },
  { KEY_HENKAN, 0x79, "Henkan" },
  { KEY_MUHENKAN, 0x7b, "Muhenkan" },
  { KEY_KATAKANAHIRAGANA, 0x70, "Katakana/Hiragana" },
  { KEY_YEN, 0x7d, "Yen" },
  { KEY_RO, 0x73, "Ro" },
  { KEY_HANGEUL, 0xf2, "Hangul" },
  { KEY_HANJA, 0xf1, "Hanja" },
};

/* Every key of a full-size ISO 105-key PC keyboard. */
static const guint iso105[] = {
  KEY_ESC, KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8,
  KEY_F9, KEY_F10, KEY_F11, KEY_F12, KEY_SYSRQ, KEY_SCROLLLOCK, KEY_PAUSE,
  KEY_GRAVE, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
  KEY_0, KEY_MINUS, KEY_EQUAL, KEY_BACKSPACE, KEY_INSERT, KEY_HOME,
  KEY_PAGEUP, KEY_NUMLOCK, KEY_KPSLASH, KEY_KPASTERISK, KEY_KPMINUS,
  KEY_TAB, KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O,
  KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_DELETE, KEY_END,
  KEY_PAGEDOWN, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPPLUS,
  KEY_CAPSLOCK, KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K,
  KEY_L, KEY_SEMICOLON, KEY_APOSTROPHE, KEY_BACKSLASH, KEY_KP4, KEY_KP5,
  KEY_KP6,
  KEY_LEFTSHIFT, KEY_102ND, KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M,
  KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_UP, KEY_KP1, KEY_KP2,
  KEY_KP3, KEY_KPENTER,
  KEY_LEFTCTRL, KEY_LEFTMETA, KEY_LEFTALT, KEY_SPACE, KEY_RIGHTALT,
  KEY_RIGHTMETA, KEY_COMPOSE, KEY_RIGHTCTRL, KEY_LEFT, KEY_DOWN, KEY_RIGHT,
  KEY_KP0, KEY_KPDOT,
};

static void
test_keymap_known (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_keys); i++)
    {
      const KnownKey *key = &known_keys[i];
      guint xt = casement_keymap_evdev_to_xt (key->evdev);

      if (xt != key->xt)
        g_error ("%s (evdev %u): expected 0x%x, got 0x%x",
                 key->name, key->evdev, key->xt, xt);

      /* GDK's hardware keycode is the evdev code + 8. */
      g_assert_cmphex (casement_keymap_keycode_to_xt (key->evdev + 8), ==, key->xt);
    }
}

static void
test_keymap_iso105 (void)
{
  g_assert_cmpuint (G_N_ELEMENTS (iso105), ==, 105);

  for (guint i = 0; i < G_N_ELEMENTS (iso105); i++)
    {
      if (casement_keymap_evdev_to_xt (iso105[i]) == 0)
        g_error ("evdev key %u of the 105-key layout has no scancode", iso105[i]);
    }
}

static void
test_keymap_function_keys (void)
{
  static const guint f13_f24[] = {
    KEY_F13, KEY_F14, KEY_F15, KEY_F16, KEY_F17, KEY_F18,
    KEY_F19, KEY_F20, KEY_F21, KEY_F22, KEY_F23, KEY_F24,
  };

  for (guint i = 0; i < G_N_ELEMENTS (f13_f24); i++)
    g_assert_cmphex (casement_keymap_evdev_to_xt (f13_f24[i]), !=, 0);
}

/* Two keys with one scancode would make one of them type the other. */
static void
test_keymap_unique (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint mapped = 0;

  for (guint evdev = 0; evdev < 0x300; evdev++)
    {
      guint xt = casement_keymap_evdev_to_xt (evdev);
      gpointer other;

      if (xt == 0)
        continue;

      mapped++;

      /* A set-1 make code is 7 bits; bit 7 marks the break code. Only the
       * Korean keys are the exception, as in QEMU. */
      if (evdev != KEY_HANGEUL && evdev != KEY_HANJA)
        g_assert_cmphex (xt & 0x80, ==, 0);
      g_assert_cmphex (xt & ~(CASEMENT_KEYMAP_E0 | 0xff), ==, 0);

      if (g_hash_table_lookup_extended (seen, GUINT_TO_POINTER (xt), NULL, &other))
        g_error ("evdev %u and %u both map to 0x%x", GPOINTER_TO_UINT (other), evdev, xt);
      g_hash_table_insert (seen, GUINT_TO_POINTER (xt), GUINT_TO_POINTER (evdev));
    }

  g_test_message ("%u evdev keys have a scancode", mapped);
  g_assert_cmpuint (mapped, >=, 150);
}

static void
test_keymap_out_of_range (void)
{
  g_assert_cmphex (casement_keymap_evdev_to_xt (KEY_RESERVED), ==, 0);
  g_assert_cmphex (casement_keymap_evdev_to_xt (0x2ff), ==, 0);
  g_assert_cmphex (casement_keymap_evdev_to_xt (G_MAXUINT), ==, 0);
  /* X11 keycodes below 8 do not exist; they must not wrap around. */
  for (guint keycode = 0; keycode < 8; keycode++)
    g_assert_cmphex (casement_keymap_keycode_to_xt (keycode), ==, 0);
  g_assert_cmphex (casement_keymap_keycode_to_xt (9), ==, 0x01);
  /* evdev 84 is an unassigned hole between KP . and Zenkaku/Hankaku. */
  g_assert_cmphex (casement_keymap_evdev_to_xt (84), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/Casement/Keymap/known", test_keymap_known);
  g_test_add_func ("/Casement/Keymap/iso105", test_keymap_iso105);
  g_test_add_func ("/Casement/Keymap/function-keys", test_keymap_function_keys);
  g_test_add_func ("/Casement/Keymap/unique", test_keymap_unique);
  g_test_add_func ("/Casement/Keymap/out-of-range", test_keymap_out_of_range);

  return g_test_run ();
}
