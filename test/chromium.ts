/**
 * Where the browser tests find Chromium (MODNAS_TEST_CHROMIUM, else Debian's /usr/bin/chromium) and
 * whether they must have it: outside CI a suite skips without one; with MODNAS_REQUIRE_SERVICES=1
 * (.ci/run) a missing Chromium fails.
 */
import { existsSync } from 'node:fs';

export const chromiumPath = process.env.MODNAS_TEST_CHROMIUM || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : '');
export const chromium = chromiumPath !== '' && existsSync(chromiumPath);
export const required = process.env.MODNAS_REQUIRE_SERVICES === '1';
/** Why a browser suite is skipped, for its title ('' when it runs). */
export const skipReason = chromium ? '' : ' (skipped: no Chromium found; apt-get install chromium or set MODNAS_TEST_CHROMIUM)';
