export const API_PREFIX = 'api/v1';
export const BULL_BOARD_ROUTE = '/admin/queues';
