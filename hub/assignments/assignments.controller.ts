import { Controller, Inject } from '@nestjs/common';
import { type Assignment } from '../../proto/index.js';
import {
  type CreateAssignmentRequest,
  type DeleteAssignmentRequest,
  type DeleteResponse,
  type DiffAssignmentRequest,
  type DiffAssignmentResponse,
  type ReconcileAssignmentRequest,
  type ReconcileAssignmentResponse,
  type TreeAssignmentRequest,
  type TreeAssignmentResponse,
  type GetAssignmentRequest,
  type ListAssignmentsRequest,
  type ListAssignmentsResponse,
  type ListAssignmentHistoryRequest,
  type ListAssignmentHistoryResponse,
  type RollbackAssignmentRequest,
  type UpdateAssignmentRequest,
} from '../../proto/api.js';
import { AssignmentServiceControllerMethods, type AssignmentServiceController } from '../../proto/nest.js';
import { AssignmentRollbackService } from './assignment-rollback.service.js';
import { AssignmentControlService } from './assignment-control.service.js';
import { AssignmentsService } from './assignments.service.js';

@Controller()
@AssignmentServiceControllerMethods()
export class AssignmentsController implements AssignmentServiceController {
  constructor(
    @Inject(AssignmentsService) private readonly assignments: AssignmentsService,
    @Inject(AssignmentRollbackService) private readonly rollback: AssignmentRollbackService,
    @Inject(AssignmentControlService) private readonly control: AssignmentControlService,
  ) {}

  createAssignment(request: CreateAssignmentRequest): Promise<Assignment> {
    return this.assignments.create(request.assignment);
  }

  getAssignment(request: GetAssignmentRequest): Promise<Assignment> {
    return this.assignments.get(request.tenant, request.name);
  }

  async listAssignments(request: ListAssignmentsRequest): Promise<ListAssignmentsResponse> {
    return { assignments: await this.assignments.list(request.tenant) };
  }

  updateAssignment(request: UpdateAssignmentRequest): Promise<Assignment> {
    return this.assignments.update(request.assignment, request.fields ?? []);
  }

  async deleteAssignment(request: DeleteAssignmentRequest): Promise<DeleteResponse> {
    await this.assignments.delete(request.tenant, request.name);
    return {};
  }

  async listAssignmentHistory(request: ListAssignmentHistoryRequest): Promise<ListAssignmentHistoryResponse> {
    return { revisions: await this.rollback.list(request.tenant, request.name) };
  }

  rollbackAssignment(request: RollbackAssignmentRequest): Promise<Assignment> {
    return this.rollback.rollback(request);
  }

  reconcileAssignment(request: ReconcileAssignmentRequest): Promise<ReconcileAssignmentResponse> {
    return this.control.reconcile(request);
  }

  diffAssignment(request: DiffAssignmentRequest): Promise<DiffAssignmentResponse> {
    return this.control.diff(request);
  }

  treeAssignment(request: TreeAssignmentRequest): Promise<TreeAssignmentResponse> {
    return this.control.tree(request);
  }
}
