/**
 * The CMK replication of a membership ceremony: replicate-cmk's step modules, unchanged, run with
 * the replication view of this plan (plan.ts replicationView) as their plan: its preflight, the
 * transfer key, both approvals and the KCV check, and the cleanup. Each step keeps its id, result and
 * protocol; only the plan it reads is the view, and it shows on this kind's board as "replicate".
 */
import type { Plan } from '../../plan-envelope'
import type { AnyStep, StepContext } from '../../step'
import { labelOf } from '../../plan-envelope'
import { cleanup } from '../replicate-cmk/cleanup'
import { preflight } from '../replicate-cmk/preflight'
import { refs } from '../replicate-cmk/results'
import { exportPubkey, importPubkey, transferKey } from '../replicate-cmk/transfer-key'
import { loadBlob, unwrapApproval, unwrapResult } from '../replicate-cmk/unwrap'
import { wrapApproval, wrapResult } from '../replicate-cmk/wrap'
import { replicationView, type MembershipPlan } from './plan'

/** A step of another kind, run with `view(plan)` as the plan every one of its functions sees. */
export function withPlanView(step: AnyStep, view: (plan: Plan) => Plan, group: string): AnyStep {
  const v = (ctx: StepContext) => ({ ...ctx, plan: view(ctx.plan) })
  return {
    ...step,
    group,
    ...(step.skip ? { skip: (ctx: StepContext) => step.skip!(v(ctx)) } : {}),
    intent: (ctx) => step.intent(v(ctx)),
    look: (ctx, earlier) => step.look(v(ctx), earlier),
    act: (ctx, intent) => step.act(v(ctx), intent),
    verify: (ctx, result) => step.verify(v(ctx), result),
    evidence: (result, ctx) => step.evidence(result, v(ctx)),
    confirmation: step.confirmation ? { ...step.confirmation, value: (ctx) => step.confirmation!.value(v(ctx)) } : null,
    ...(step.approval ? { approval: { ...step.approval, describe: (ctx, request) => step.approval!.describe(v(ctx), request), quorum: (ctx) => step.approval!.quorum(v(ctx)) } } : {}),
  }
}

/** replicate-cmk's steps for the one target, in its order; a target that already holds the CMK skips all but the preflight. */
export function replicationSteps(plan: MembershipPlan): AnyStep[] {
  const view = replicationView(plan)
  const t = plan.added
  const label = (id: string) => labelOf(view, id)
  const wrap = wrapApproval(view, t, label)
  const unwrap = unwrapApproval(view, t, label)
  const perTarget: AnyStep[] = [
    transferKey(view, t, label), exportPubkey(view, t, label), importPubkey(view, t, label),
    wrap.request, wrap.approval, wrapResult(view, t, label),
    loadBlob(view, t, label), unwrap.request, unwrap.approval, unwrapResult(view, t, label),
    cleanup(view, t, label),
  ]
  const asView = (p: Plan) => replicationView(p as MembershipPlan)
  return [
    withPlanView(preflight(view), asView, 'replicate'),
    ...perTarget.map((step) => withPlanView({
      ...step,
      skip: (ctx: StepContext) => (ctx.get(refs.preflight).replicated.includes(t) ? 'the CMK is already on this appliance with the same KCV' : null),
    }, asView, 'replicate')),
  ]
}
