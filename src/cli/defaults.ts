/** Defaults the commands share (kept free of imports so loading them costs nothing). */
export const DEFAULT_SANDBOX = 'http://127.0.0.1:12111';
export const DEFAULT_KEY = 'sk_test_paybridge_cli';
