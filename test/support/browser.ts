import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's chromium (`./scripts/setup --tests` installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Where screenshots go: test/output/screenshots (git-ignored). */
export const SCREENSHOTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'output', 'screenshots');

/**
 * Headless Chromium, driven by playwright-core. Absent, it throws one line saying what to install:
 * the browser tests fail then, they are never skipped.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: the browser tests need Debian's chromium ` +
        `(run ./scripts/setup --tests, or sudo apt-get install chromium; CHROMIUM_PATH names another binary)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/**
 * Saves a screenshot of `page` as `<name>.png` and checks that it shows text: enough dark pixels on
 * the light page (a blank or unstyled-failure page has none), read back by drawing the PNG on a canvas.
 */
export async function screenshotShowsText(browser: Browser, page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  const png = await page.screenshot({ path: file, fullPage: true });
  const reader = await browser.newPage();
  try {
    await reader.setContent('<canvas id="c"></canvas>');
    // Runs in the page (the tests compile without DOM types): the share of dark pixels of the PNG.
    const dark = await reader.evaluate<number>(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png.toString('base64')}';
      await img.decode();
      const canvas = document.getElementById('c');
      canvas.width = img.width;
      canvas.height = img.height;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, img.width, img.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] < 300) n++;
      return n / (px.length / 4);
    })()`);
    // Text in #222 on white covers a few percent of a page; far below that nothing was drawn, far above it is not a page.
    expect(dark, `${name}.png should show dark text on a light page`).toBeGreaterThan(0.002);
    expect(dark, `${name}.png should be a light page`).toBeLessThan(0.5);
  } finally {
    await reader.close();
  }
  return file;
}
