import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthBed, type Bed } from './bed.js';
import { saidConnection } from '../support/said.js';

describe('disconnect', () => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await oauthBed();
  });
  afterAll(async () => bed?.stop());

  it("calls the provider's revocation endpoint once, removes the tokens, audits, and later calls need a new grant", async () => {
    await bed.connect();
    const row = (await bed.connection())!;
    const rt = bed.server.issuedRefreshTokens.at(-1)!;
    const r = await bed.oauth.disconnect(bed.org.id, bed.user.id, 'vendor');
    expect(r).toMatchObject({ ok: true });
    expect(saidConnection(r).ok && saidConnection(r).message).toContain('@bob');
    expect(bed.server.seen('/revoke')).toHaveLength(1);
    expect(bed.server.revoked).toEqual([rt]);
    expect(await bed.connection()).toBeUndefined();
    expect(await bed.oauth.accessTokenFor(bed.org.id, bed.user.id, 'vendor')).toMatchObject({ kind: 'missing' });
    expect(await bed.oauth.listConnections(bed.org.id, bed.user.id)).toEqual([]);
    expect((await bed.t.app.audit.query(bed.org.id)).find((e) => e.action === 'disconnect')).toMatchObject({
      outcome: 'revoked',
      vendorAccount: '@bob',
      onBehalfOfUserId: bed.user.id,
      connectionIds: [row.id],
    });
    expect(bed.t.logs.containing(rt)).toEqual([]);
  });

  it('still deletes locally and audits when the provider is down', async () => {
    await bed.connect();
    await bed.server.stop();
    const r = await bed.oauth.disconnect(bed.org.id, bed.user.id, 'vendor');
    expect(saidConnection(r).ok && saidConnection(r).message).toContain('did not confirm');
    expect(await bed.connection()).toBeUndefined();
    expect((await bed.t.app.audit.query(bed.org.id)).find((e) => e.action === 'disconnect')).toMatchObject({
      outcome: 'deleted_locally',
    });
    expect(await bed.oauth.disconnect(bed.org.id, bed.user.id, 'vendor')).toMatchObject({ ok: false });
  });
});
