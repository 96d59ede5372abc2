// The chat page (examples/chat/web, served by chat_server --static) in Debian's Chromium, driven by
// playwright-core, on each wire: two pages join a room and talk, typing reaches only the other,
// presence counts move, a FORBIDDEN is shown, an announcement shows its banner, and after the
// server is restarted on the same port both pages reconnect by themselves. A screenshot of each run
// is written to SUPERLINE_TEST_OUT.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import WebSocket from "ws";
import { ChatAgentClient } from "@gen/chat/chat.superline.js";
import { ChatServer } from "./support.js";

const executablePath = process.env.SUPERLINE_CHROMIUM ?? "/usr/bin/chromium";
const web = process.env.SUPERLINE_CHAT_WEB;
const out = process.env.SUPERLINE_TEST_OUT ?? ".";

let browser: Browser;
before(async () => {
  // A machine without Chromium fails here, loudly: these tests are part of the suite.
  assert.ok(existsSync(executablePath), `no Chromium at ${executablePath}: run scripts/setup.sh`);
  assert.ok(web && existsSync(path.join(web, "index.html")), `SUPERLINE_CHAT_WEB (${web}) has no built page`);
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // As root in a closed network: no sandbox, and none of Chromium's own traffic.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
});
after(async () => {
  await browser?.close();
});

async function text(page: Page, selector: string, wanted: string, timeout = 10_000): Promise<void> {
  try {
    await page.waitForFunction(
      ([sel, t]) => document.querySelector(sel!)?.textContent?.includes(t!) ?? false,
      [selector, wanted],
      { timeout },
    );
  } catch {
    const got = await page.locator(selector).textContent();
    assert.fail(`${selector} never showed "${wanted}" (shows "${got}")`);
  }
}

async function join(page: Page, room: string): Promise<void> {
  await page.fill("#room", room);
  await page.click("#join");
  await text(page, "#current", `#${room}`);
}

for (const wire of ["json", "protobuf"] as const) {
  test(`the chat page over ${wire}`, async () => {
    let server = await ChatServer.start(["--static", web!]);
    const port = server.port;
    const context = await browser.newContext();
    try {
      const open = async (name: string) => {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(`http://127.0.0.1:${port}/?name=${name}&wire=${wire}`);
        await text(page, "#status", "connected");
        return { page, errors };
      };
      const ann = await open("ann");
      const bob = await open("bob");

      await join(ann.page, "lobby");
      await join(bob.page, "lobby");
      await text(ann.page, '#presence li[data-room="lobby"]', "lobby: 2");

      await bob.page.fill("#text", "hello from bob");
      await text(ann.page, "#typing", "bob is typing");
      assert.equal(await bob.page.textContent("#typing"), "");
      await bob.page.click("#send");
      await text(ann.page, "#messages", "bobhello from bob");
      await text(bob.page, "#messages", "bobhello from bob");

      const carol = await open("carol");
      await carol.page.fill("#room", "lobby");
      await carol.page.fill("#text", "may I?");
      await carol.page.click("#send");
      await text(carol.page, "#error", "FORBIDDEN");

      const agent = new ChatAgentClient({ url: server.url, params: { name: "ops" }, wire, WebSocket });
      await agent.announce({ text: "maintenance at noon" });
      agent.close();
      await text(ann.page, "#banner", "from ops: maintenance at noon");
      mkdirSync(out, { recursive: true });
      await ann.page.screenshot({ path: path.join(out, `chat-page-${wire}.png`), fullPage: true });

      // The server goes away and comes back on the same port: both pages reconnect by themselves.
      await server.stop();
      await text(ann.page, "#status", "reconnecting");
      server = await ChatServer.start(["--static", web!], port);
      await text(ann.page, "#status", "connected");
      await text(bob.page, "#status", "connected");
      await join(ann.page, "again");
      await join(bob.page, "again");
      // Only the presence topic tells ann that bob joined: it was subscribed again.
      await text(ann.page, '#presence li[data-room="again"]', "again: 2");
      await ann.page.fill("#text", "back again");
      await ann.page.click("#send");
      await text(bob.page, "#messages", "annback again");

      assert.deepEqual([...ann.errors, ...bob.errors, ...carol.errors], []);
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
