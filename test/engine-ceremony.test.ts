/** The whole ceremony, engine against simulated appliances over real TLS. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { runToCompletion } from '../main/ceremony/runner'
import { verifyRecord } from '../main/evidence'
import { ceremonyFixture } from './support/ceremony-fixture'

for (const targets of [1, 3]) {
  test(`a full ceremony to ${targets} target(s) leaves the CMK with the source KCV on each and no transfer key anywhere`, async () => {
    const f = await ceremonyFixture({ targets })
    try {
      const engine = await f.open()
      await runToCompletion(engine, { credentials: f.creds, confirm: true })
      assert.equal(engine.isComplete(), true)
      const { record, path } = await engine.sealRecord()
      await engine.shutdown()

      const sourceCmk = f.sim.appliances[0]!.state.sobjects().filter((o) => o.name === f.plan.cmk.name)
      assert.equal(sourceCmk.length, 1)
      for (const appliance of f.sim.appliances) {
        const objects = appliance.state.sobjects()
        const cmks = objects.filter((o) => o.name === f.plan.cmk.name)
        assert.equal(cmks.length, 1, `exactly one CMK on ${appliance.id}`)
        assert.equal(cmks[0]!.kcv, sourceCmk[0]!.kcv, `KCV on ${appliance.id}`)
        assert.deepEqual(objects.filter((o) => /transfer/.test(o.name ?? '')), [], `no transfer key left on ${appliance.id}`)
      }
      const verified = verifyRecord(JSON.parse(readFileSync(path, 'utf8')), { artifactsDir: f.mediaDir })
      assert.equal(verified.ok, true, JSON.stringify(verified))
      assert.equal(record.watermark, 'REHEARSAL')
      assert.equal(record.artifacts.length, targets * 3, 'public key, wrapped key and manifest per target')
      assert.equal(record.approvals.length >= targets * 2, true)
    } finally {
      await f.cleanup()
    }
  })
}
