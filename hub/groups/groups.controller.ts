import { Controller, Inject } from '@nestjs/common';
import type { Group } from '../../proto/index.js';
import type {
  CreateGroupRequest,
  DeleteGroupRequest,
  DeleteResponse,
  GetGroupRequest,
  GetGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  UpdateGroupRequest,
} from '../../proto/api.js';
import { GroupServiceControllerMethods, type GroupServiceController } from '../../proto/nest.js';
import { GroupsService } from './groups.service.js';

@Controller()
@GroupServiceControllerMethods()
export class GroupsController implements GroupServiceController {
  constructor(@Inject(GroupsService) private readonly groups: GroupsService) {}

  createGroup(request: CreateGroupRequest): Promise<Group> {
    return this.groups.create(request.group);
  }

  getGroup(request: GetGroupRequest): Promise<GetGroupResponse> {
    return this.groups.get(request.name);
  }

  async listGroups(_request: ListGroupsRequest): Promise<ListGroupsResponse> {
    return { groups: await this.groups.list() };
  }

  updateGroup(request: UpdateGroupRequest): Promise<Group> {
    return this.groups.update(request.group, request.fields ?? []);
  }

  async deleteGroup(request: DeleteGroupRequest): Promise<DeleteResponse> {
    await this.groups.delete(request.name);
    return {};
  }
}
