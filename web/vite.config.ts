/** The dashboard's build: `paybridge start` runs it when web/ changed (see src/gateway/dashboard.ts). */
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const gateway = process.env.PAYBRIDGE_URL ?? 'http://127.0.0.1:4000';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800 },
  // `npx vite web` serves the dashboard with hot reload against a running gateway.
  server: { proxy: Object.fromEntries(['/v1', '/dashboard/api', '/oauth', '/s/', '/connected'].map((p) => [p, gateway])) },
});
