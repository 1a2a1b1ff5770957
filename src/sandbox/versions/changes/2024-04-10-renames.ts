/**
 * 2024-04-10 renamed a product's `features` to `marketing_features` and an
 * invoice's `rendering_options` to `rendering`.
 */
import { without, type VersionChange } from '../change.js';

export const productMarketingFeatures: VersionChange = {
  version: '2024-04-10',
  title: 'Products: `features` renamed `marketing_features`',
  objects: ['product'],
  down: (p) => ({ ...without(p, 'marketing_features'), features: p.marketing_features ?? [] }),
};

export const invoiceRendering: VersionChange = {
  version: '2024-04-10',
  title: 'Invoices: `rendering_options` renamed `rendering`',
  objects: ['invoice'],
  down: (inv) => ({ ...without(inv, 'rendering'), rendering_options: inv.rendering ? { amount_tax_display: inv.rendering.amount_tax_display ?? null } : null }),
};
