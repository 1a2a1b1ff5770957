/**
 * Writes src/stripe/routes.json: every route the sandbox serves, with the
 * restricted-key permission it needs and, where the route declares its own
 * parameters or patches Stripe's, its schema. The gateway checks connection
 * keys and connector actions against this table without loading the sandbox;
 * test/stripe/routes.test.ts fails when the table and the sandbox disagree.
 *
 *   npm run gen:routes
 */
import { writeFileSync } from 'node:fs';
import { routeTable } from '../src/sandbox/route-table.js';

writeFileSync(new URL('../src/stripe/routes.json', import.meta.url), JSON.stringify(routeTable()) + '\n');
console.log('wrote src/stripe/routes.json');
