// The shortlink page in a real browser: Debian's headless Chromium driven by playwright-core opens
// a link, reads the code that sendCode received, types it, submits, and sees the image.
// Needs /usr/bin/chromium (apt-get install -y chromium); without it this suite fails, saying so.

import assert from 'node:assert/strict';
import { CHROMIUM_ARGS } from '../fixtures/chromium';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import type { Database } from '../../store/database';
import { createTestDatabase } from '../store/test-database';
import type { TestDatabase } from '../store/test-database';
import { makePng, makeStore, newMessageId, newRecipient, startApp } from './helpers';
import type { AppHarness, StoreHarness } from './helpers';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = '/tmp/shortlink.png';

describe('shortlink page (headless Chromium)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let h: StoreHarness;
  let web: AppHarness;
  let browser: Browser;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: the page test needs Debian's chromium ` +
          '(apt-get update && apt-get install -y chromium), or CHROMIUM_PATH set to a Chromium binary',
      );
    }
    testDb = await createTestDatabase('switchboard_shortlink_page');
    db = testDb.db;
    h = makeStore(db);
    web = await startApp({ store: h.store });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
    });
  });
  after(async () => {
    await browser?.close();
    await web?.close();
    await testDb?.drop();
  });

  it('opens a link, takes the code, and shows the image', async () => {
    const png = makePng(48, 32);
    const link = await h.store.create({
      messageId: newMessageId(),
      recipient: newRecipient(),
      media: png,
      contentType: 'image/png',
      fileName: 'parcel.png',
    });
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    try {
      const response = await page.goto(`${web.base}/s/${link.token}`);
      assert.equal(response?.status(), 200);
      assert.equal(await page.title(), 'Enter the code we sent to your phone');
      assert.equal(h.codes.length, 1, 'opening the page sent one code');

      await page.screenshot({ path: '/tmp/shortlink-form.png', fullPage: true });
      await page.getByLabel('6-digit code').fill(h.lastCode());
      const [shown] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Show the file' }).click(),
      ]);
      assert.equal(shown.status(), 200);
      await page.waitForLoadState('load');
      await page.waitForSelector('img');
      const natural = await page.$eval(
        'img',
        (img: { naturalWidth: number; naturalHeight: number; complete: boolean }) => ({
          width: img.naturalWidth,
          height: img.naturalHeight,
          complete: img.complete,
        }),
      );
      assert.deepEqual(natural, { width: 48, height: 32, complete: true });
      assert.equal(await page.getByRole('link', { name: 'Download parcel.png' }).count(), 1);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      assert.deepEqual(violations, [], 'the page breaks its own Content-Security-Policy');
      assert.deepEqual(
        web.events.map((e) => e.event),
        ['shortlink.code_sent', 'shortlink.open'],
      );
    } finally {
      await page.close();
    }
  });

  it('shows the locked page after 5 wrong codes', async () => {
    const link = await h.store.create({
      messageId: newMessageId(),
      recipient: newRecipient(),
      media: makePng(),
      contentType: 'image/png',
      fileName: 'parcel.png',
    });
    const page = await browser.newPage();
    try {
      await page.goto(`${web.base}/s/${link.token}`);
      const wrong = String((Number(h.lastCode()) + 1) % 1_000_000).padStart(6, '0');
      let status = 0;
      for (let i = 0; i < 5; i++) {
        await page.getByLabel('6-digit code').fill(wrong);
        const [response] = await Promise.all([
          page.waitForResponse((r) => r.request().method() === 'POST'),
          page.getByRole('button', { name: 'Show the file' }).click(),
        ]);
        status = response.status();
        if (i < 4) assert.match(await page.getByRole('alert').innerText(), /not right/);
      }
      assert.equal(status, 429);
      assert.equal(await page.title(), 'This link is locked');
    } finally {
      await page.close();
    }
  });
});
