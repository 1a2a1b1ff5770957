/**
 * 2026-03-25.dahlia renamed a Checkout Session's `ui_mode` values: `hosted`
 * became `hosted_page`, `embedded` `embedded_page` and `custom` `elements`.
 * (Requests in either spelling are translated or refused in ../requests.ts.)
 */
import type { VersionChange } from '../change.js';

const OLD_NAMES: Record<string, string> = { hosted_page: 'hosted', embedded_page: 'embedded', elements: 'custom' };

export const checkoutUiMode: VersionChange = {
  version: '2026-03-25.dahlia',
  title: 'Checkout Sessions: `ui_mode` values renamed (`hosted` → `hosted_page`, `embedded` → `embedded_page`, `custom` → `elements`)',
  objects: ['checkout.session'],
  down: (s) => (s.ui_mode in OLD_NAMES ? { ...s, ui_mode: OLD_NAMES[s.ui_mode] } : s),
};
