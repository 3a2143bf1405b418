/**
 * Operations of `alice project …`. None writes the index (projects are files in project roots), but
 * the changing ones count as writes: they emit `project.updated` and queue behind the agent's lane.
 */
import { z } from 'zod';
import { validateProjectName } from '../../domain/project.js';
import { exportProject } from '../../services/project/project-export.js';
import { selectAssets } from '../../services/project/project-select.js';
import { unselectAssets } from '../../services/project/project-unselect.js';
import type { CallerOptions, ProjectDeps, ProjectService } from '../../services/project/project.service.js';
import type { Container } from '../container.js';
import { op, type OpContext } from './op.js';

/** Checks the project name first, so a bad name is refused before the index is opened. */
function projectDeps(container: Container, name: string): Promise<ProjectDeps> {
  validateProjectName(name);
  return container.projectDeps();
}

function projectService(container: Container, name?: string): Promise<ProjectService> {
  if (name !== undefined) validateProjectName(name);
  return container.projectService();
}

function caller(ctx: OpContext, p: { path?: string | undefined }): CallerOptions {
  return { cwd: ctx.cwd, remote: ctx.remote, path: p.path };
}

/** Emits `project.updated` after an operation that changed a project's files. */
async function changed<T>(ctx: OpContext, project: string, change: string, work: Promise<T>): Promise<T> {
  const result = await work;
  const where = (result as { path?: unknown; project?: { path?: unknown } } | null) ?? null;
  const folder =
    typeof where?.path === 'string'
      ? where.path
      : typeof where?.project?.path === 'string'
        ? where.project.path
        : '';
  ctx.container.events.emit('project.updated', { project, path: folder, changes: [change] });
  return result;
}

const name = z.string().min(1);
/** Folder holding the project when it is not in the configured project roots. */
const where = z.string().min(1).optional();
const refs = z.array(z.string().min(1)).min(1);

export const PROJECT_OPS = {
  'project.create': op(
    z.object({ name, path: where, description: z.string().optional() }),
    true,
    async (ctx, p) =>
      changed(
        ctx,
        p.name,
        'created',
        (await projectService(ctx.container, p.name)).create(p.name, {
          ...caller(ctx, p),
          description: p.description,
        }),
      ),
  ),
  'project.list': op(z.object({}), false, async (ctx) => (await projectService(ctx.container)).list()),
  'project.show': op(z.object({ name, path: where }), false, async (ctx, p) =>
    (await projectService(ctx.container, p.name)).show(p.name, caller(ctx, p)),
  ),
  'project.verify': op(z.object({ name, path: where }), false, async (ctx, p) =>
    (await projectService(ctx.container, p.name)).verify(p.name, caller(ctx, p)),
  ),
  'project.select': op(
    z.object({ name, refs, why: z.string().trim().min(1), role: z.string().min(1).optional(), path: where }),
    true,
    async (ctx, p) =>
      changed(
        ctx,
        p.name,
        'selected',
        selectAssets(await projectDeps(ctx.container, p.name), p.name, p.refs, {
          ...caller(ctx, p),
          why: p.why,
          role: p.role,
        }),
      ),
  ),
  'project.unselect': op(z.object({ name, refs, path: where }), true, async (ctx, p) =>
    changed(
      ctx,
      p.name,
      'unselected',
      unselectAssets(await projectDeps(ctx.container, p.name), p.name, p.refs, caller(ctx, p)),
    ),
  ),
  'project.export': op(
    z.object({ name, to: z.string().min(1).optional(), path: where }),
    true,
    async (ctx, p) =>
      changed(
        ctx,
        p.name,
        'exported',
        exportProject(await projectDeps(ctx.container, p.name), p.name, { ...caller(ctx, p), to: p.to }),
      ),
  ),
};
