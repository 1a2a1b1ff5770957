/** Minimal HTML helpers for the sandbox's hosted pages. */
import { escapeHtml } from '../../stripe/html.js';

export { escapeHtml };

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:#f6f9fc;color:#1a1f36}
main{max-width:440px;margin:48px auto;background:#fff;border-radius:12px;box-shadow:0 2px 5px rgba(50,50,93,.1),0 1px 2px rgba(0,0,0,.08);padding:32px}
h1{font-size:20px;margin:0 0 8px}p{color:#4f566b;margin:0 0 16px}.muted{color:#8792a2;font-size:13px}
.row{display:flex;justify-content:space-between;padding:8px 0;border-bottom:1px solid #e3e8ee}.total{font-weight:600;font-size:17px;border:0}
button,.button{display:block;width:100%;padding:12px;border:0;border-radius:6px;font-size:16px;font-weight:600;cursor:pointer;text-align:center;text-decoration:none;margin-top:12px}
.primary{background:#635bff;color:#fff}.secondary{background:#fff;color:#635bff;border:1px solid #d5dbe1}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;background:#fff4e5;color:#b35c00;font-size:12px;font-weight:600;margin-bottom:16px}`;

export function page(title: string, body: string, o: { mainClass?: string; css?: string } = {}): string {
  const main = o.mainClass ? `<main class="${o.mainClass}">` : '<main>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}${o.css ?? ''}</style></head><body>${main}${body}</main></body></html>`;
}
