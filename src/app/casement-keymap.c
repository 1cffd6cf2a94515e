/* casement-keymap.c
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

#define G_LOG_DOMAIN "casement-keymap"

#include "config.h"

#include <linux/input-event-codes.h>

#include "casement-keymap.h"

#define E0(code) (CASEMENT_KEYMAP_E0 | (code))

/* evdev code → XT set-1 scancode as QEMU reads it back (its "qnum"
 * numbering), which is what spice-server hands to QEMU unchanged. Where a
 * key has several set-1 spellings, the one QEMU understands wins: Print
 * Screen is the SysRq code 0x54 (QEMU emits the E0 2A E0 37 sequence itself),
 * Pause is E0 46 (QEMU emits the E1 sequence). Korean Hangul/Hanja use
 * QEMU's 0xf2/0xf1, which have no break code on real keyboards either. */
static const guint16 evdev_to_xt[] = {
  [KEY_ESC] = 0x01,
  [KEY_1] = 0x02,
  [KEY_2] = 0x03,
  [KEY_3] = 0x04,
  [KEY_4] = 0x05,
  [KEY_5] = 0x06,
  [KEY_6] = 0x07,
  [KEY_7] = 0x08,
  [KEY_8] = 0x09,
  [KEY_9] = 0x0a,
  [KEY_0] = 0x0b,
  [KEY_MINUS] = 0x0c,
  [KEY_EQUAL] = 0x0d,
  [KEY_BACKSPACE] = 0x0e,
  [KEY_TAB] = 0x0f,
  [KEY_Q] = 0x10,
  [KEY_W] = 0x11,
  [KEY_E] = 0x12,
  [KEY_R] = 0x13,
  [KEY_T] = 0x14,
  [KEY_Y] = 0x15,
  [KEY_U] = 0x16,
  [KEY_I] = 0x17,
  [KEY_O] = 0x18,
  [KEY_P] = 0x19,
  [KEY_LEFTBRACE] = 0x1a,
  [KEY_RIGHTBRACE] = 0x1b,
  [KEY_ENTER] = 0x1c,
  [KEY_LEFTCTRL] = 0x1d,
  [KEY_A] = 0x1e,
  [KEY_S] = 0x1f,
  [KEY_D] = 0x20,
  [KEY_F] = 0x21,
  [KEY_G] = 0x22,
  [KEY_H] = 0x23,
  [KEY_J] = 0x24,
  [KEY_K] = 0x25,
  [KEY_L] = 0x26,
  [KEY_SEMICOLON] = 0x27,
  [KEY_APOSTROPHE] = 0x28,
  [KEY_GRAVE] = 0x29,
  [KEY_LEFTSHIFT] = 0x2a,
  [KEY_BACKSLASH] = 0x2b,
  [KEY_Z] = 0x2c,
  [KEY_X] = 0x2d,
  [KEY_C] = 0x2e,
  [KEY_V] = 0x2f,
  [KEY_B] = 0x30,
  [KEY_N] = 0x31,
  [KEY_M] = 0x32,
  [KEY_COMMA] = 0x33,
  [KEY_DOT] = 0x34,
  [KEY_SLASH] = 0x35,
  [KEY_RIGHTSHIFT] = 0x36,
  [KEY_KPASTERISK] = 0x37,
  [KEY_LEFTALT] = 0x38,
  [KEY_SPACE] = 0x39,
  [KEY_CAPSLOCK] = 0x3a,
  [KEY_F1] = 0x3b,
  [KEY_F2] = 0x3c,
  [KEY_F3] = 0x3d,
  [KEY_F4] = 0x3e,
  [KEY_F5] = 0x3f,
  [KEY_F6] = 0x40,
  [KEY_F7] = 0x41,
  [KEY_F8] = 0x42,
  [KEY_F9] = 0x43,
  [KEY_F10] = 0x44,
  [KEY_NUMLOCK] = 0x45,
  [KEY_SCROLLLOCK] = 0x46,
  [KEY_KP7] = 0x47,
  [KEY_KP8] = 0x48,
  [KEY_KP9] = 0x49,
  [KEY_KPMINUS] = 0x4a,
  [KEY_KP4] = 0x4b,
  [KEY_KP5] = 0x4c,
  [KEY_KP6] = 0x4d,
  [KEY_KPPLUS] = 0x4e,
  [KEY_KP1] = 0x4f,
  [KEY_KP2] = 0x50,
  [KEY_KP3] = 0x51,
  [KEY_KP0] = 0x52,
  [KEY_KPDOT] = 0x53,
  [KEY_ZENKAKUHANKAKU] = 0x76,
  [KEY_102ND] = 0x56,
  [KEY_F11] = 0x57,
  [KEY_F12] = 0x58,
  [KEY_RO] = 0x73,
  [KEY_KATAKANA] = 0x78,
  [KEY_HIRAGANA] = 0x77,
  [KEY_HENKAN] = 0x79,
  [KEY_KATAKANAHIRAGANA] = 0x70,
  [KEY_MUHENKAN] = 0x7b,
  [KEY_KPJPCOMMA] = 0x5c,
  [KEY_KPENTER] = E0 (0x1c),
  [KEY_RIGHTCTRL] = E0 (0x1d),
  [KEY_KPSLASH] = E0 (0x35),
  [KEY_SYSRQ] = 0x54,
  [KEY_RIGHTALT] = E0 (0x38),
  [KEY_HOME] = E0 (0x47),
  [KEY_UP] = E0 (0x48),
  [KEY_PAGEUP] = E0 (0x49),
  [KEY_LEFT] = E0 (0x4b),
  [KEY_RIGHT] = E0 (0x4d),
  [KEY_END] = E0 (0x4f),
  [KEY_DOWN] = E0 (0x50),
  [KEY_PAGEDOWN] = E0 (0x51),
  [KEY_INSERT] = E0 (0x52),
  [KEY_DELETE] = E0 (0x53),
  [KEY_MUTE] = E0 (0x20),
  [KEY_VOLUMEDOWN] = E0 (0x2e),
  [KEY_VOLUMEUP] = E0 (0x30),
  [KEY_POWER] = E0 (0x5e),
  [KEY_KPEQUAL] = 0x59,
  [KEY_KPPLUSMINUS] = E0 (0x4e),
  [KEY_PAUSE] = E0 (0x46),
  [KEY_KPCOMMA] = 0x7e,
  [KEY_HANGEUL] = 0xf2,
  [KEY_HANJA] = 0xf1,
  [KEY_YEN] = 0x7d,
  [KEY_LEFTMETA] = E0 (0x5b),
  [KEY_RIGHTMETA] = E0 (0x5c),
  [KEY_COMPOSE] = E0 (0x5d),
  [KEY_STOP] = E0 (0x68),
  [KEY_AGAIN] = E0 (0x05),
  [KEY_PROPS] = E0 (0x06),
  [KEY_UNDO] = E0 (0x07),
  [KEY_FRONT] = E0 (0x0c),
  [KEY_COPY] = E0 (0x78),
  [KEY_OPEN] = 0x64,
  [KEY_PASTE] = 0x65,
  [KEY_FIND] = E0 (0x41),
  [KEY_CUT] = E0 (0x3c),
  [KEY_HELP] = E0 (0x75),
  [KEY_MENU] = E0 (0x1e),
  [KEY_CALC] = E0 (0x21),
  [KEY_SLEEP] = E0 (0x5f),
  [KEY_WAKEUP] = E0 (0x63),
  [KEY_WWW] = E0 (0x02),
  [KEY_SCREENLOCK] = E0 (0x12),
  [KEY_MAIL] = E0 (0x6c),
  [KEY_BOOKMARKS] = E0 (0x66),
  [KEY_COMPUTER] = E0 (0x6b),
  [KEY_BACK] = E0 (0x6a),
  [KEY_FORWARD] = E0 (0x69),
  [KEY_EJECTCLOSECD] = E0 (0x7d),
  [KEY_NEXTSONG] = E0 (0x19),
  [KEY_PLAYPAUSE] = E0 (0x22),
  [KEY_PREVIOUSSONG] = E0 (0x10),
  [KEY_STOPCD] = E0 (0x24),
  [KEY_RECORD] = E0 (0x31),
  [KEY_REWIND] = E0 (0x18),
  [KEY_HOMEPAGE] = E0 (0x32),
  [KEY_REFRESH] = E0 (0x67),
  [KEY_F13] = 0x5d,
  [KEY_F14] = 0x5e,
  [KEY_F15] = 0x5f,
  [KEY_F16] = 0x55,
  [KEY_F17] = E0 (0x03),
  [KEY_F18] = E0 (0x77),
  [KEY_F19] = E0 (0x04),
  [KEY_F20] = 0x5a,
  [KEY_F21] = 0x74,
  [KEY_F22] = E0 (0x79),
  [KEY_F23] = 0x6d,
  [KEY_F24] = 0x6f,
  [KEY_PLAYCD] = E0 (0x28),
  [KEY_PAUSECD] = E0 (0x29),
  [KEY_SUSPEND] = E0 (0x25),
  [KEY_CLOSE] = E0 (0x2f),
  [KEY_PLAY] = E0 (0x33),
  [KEY_FASTFORWARD] = E0 (0x34),
  [KEY_PRINT] = E0 (0x39),
  [KEY_EMAIL] = E0 (0x3f),
  [KEY_SEARCH] = E0 (0x65),
  [KEY_MEDIA] = E0 (0x6d),
  [KEY_BRIGHTNESSDOWN] = E0 (0x4c),
  [KEY_BRIGHTNESSUP] = E0 (0x54),
};

guint
casement_keymap_evdev_to_xt (guint evdev_code)
{
  if (evdev_code >= G_N_ELEMENTS (evdev_to_xt))
    return 0;

  return evdev_to_xt[evdev_code];
}

guint
casement_keymap_keycode_to_xt (guint hardware_keycode)
{
  /* X11 keycodes start at 8; anything below is not a key. */
  if (hardware_keycode < 8)
    return 0;

  return casement_keymap_evdev_to_xt (hardware_keycode - 8);
}
