// Chinese and English labels, switchable at any time; times in the city's time zone.

type Dict = Record<string, string>;
const en: Dict = {
  'app.title': 'CityTwin Operations', 'nav.map': 'Map', 'nav.alerts': 'Alerts & incidents', 'nav.rules': 'Rules',
  'nav.devices': 'Devices', 'nav.dashboard': 'Dashboard', 'lang.switch': '中文', 'search.placeholder': 'Search id or name…',
  'live.online': 'Live', 'live.offline': 'Offline', 'live.connecting': 'Connecting…', 'legend.toggle': 'Click to hide or show this layer',
  'layer.District': 'Districts', 'layer.AirQualityObserved': 'Air stations', 'layer.TrafficFlowObserved': 'Road sensors',
  'layer.Alert': 'Alerts', 'layer.Incident': 'Incidents', 'layer.ResponseUnit': 'Response units', 'layer.other': 'Other',
  'aqi.good': 'Good', 'aqi.moderate': 'Moderate', 'aqi.usg': 'Unhealthy for sensitive groups', 'aqi.unhealthy': 'Unhealthy',
  'aqi.veryUnhealthy': 'Very unhealthy', 'aqi.hazardous': 'Hazardous', 'aqi.none': 'No data', 'aqi.title': 'Air quality index',
  'panel.attributes': 'Current attributes', 'panel.history': 'History', 'panel.close': 'Close', 'panel.noHistory': 'No history',
  'panel.attribute': 'Attribute', 'panel.value': 'Value', 'panel.observedAt': 'Observed',
  'tm.title': 'Time machine', 'tm.live': 'Live', 'tm.play': 'Play', 'tm.pause': 'Pause', 'tm.at': 'At', 'tm.station': 'Station', 'tm.value': 'AQI',
  'alerts.title': 'Open alerts', 'alerts.none': 'No open alerts', 'alerts.severity': 'Severity', 'alerts.category': 'Category',
  'alerts.source': 'Source', 'alerts.issued': 'Issued', 'alerts.status': 'Status', 'alerts.description': 'Description',
  'incidents.title': 'Incidents', 'incidents.none': 'No incidents', 'incidents.status': 'Status', 'incidents.opened': 'Opened',
  'incidents.unit': 'Unit', 'incidents.actions': 'Actions', 'incidents.acknowledge': 'Acknowledge', 'incidents.dispatch': 'Dispatch',
  'incidents.resolve': 'Resolve', 'incidents.close': 'Close', 'incidents.proposal': 'Proposed unit', 'incidents.noUnit': 'no unit available',
  'incidents.route': 'Route', 'incidents.meanTimes': 'Mean response times', 'incidents.toAck': 'to acknowledge', 'incidents.toDispatch': 'to dispatch',
  'incidents.toResolve': 'to resolve',
  'incidents.responseTimes': 'Response times (s): ack / dispatch / resolve',
  'status.open': 'open', 'status.acknowledged': 'acknowledged', 'status.dispatched': 'dispatched', 'status.resolved': 'resolved',
  'status.closed': 'closed', 'status.active': 'active', 'status.cleared': 'cleared',
  'severity.informational': 'informational', 'severity.low': 'low', 'severity.medium': 'medium', 'severity.high': 'high', 'severity.critical': 'critical',
  'rules.title': 'Rules', 'rules.id': 'Id', 'rules.watch': 'Watched type', 'rules.when': 'Condition (when)', 'rules.for': 'For (duration)',
  'rules.clearWhen': 'Clear when', 'rules.severity': 'Severity', 'rules.actions': 'Actions (JSON)', 'rules.enabled': 'Enabled',
  'rules.state': 'State', 'rules.fired': 'Fired', 'rules.enable': 'Enable', 'rules.disable': 'Disable', 'rules.edit': 'Edit',
  'rules.new': 'New rule', 'rules.save': 'Save', 'rules.cancel': 'Cancel', 'rules.saved': 'Saved', 'rules.description': 'Description',
  'rules.badJson': 'not valid JSON',
  'devices.title': 'Devices', 'devices.id': 'Device', 'devices.entity': 'Entity', 'devices.state': 'State', 'devices.lastSeen': 'Last seen',
  'devices.commands': 'Commands', 'devices.send': 'Send', 'devices.value': 'value', 'devices.noCommand': 'not sent yet',
  'cmd.PENDING': 'pending', 'cmd.DELIVERED': 'delivered', 'cmd.OK': 'done', 'cmd.ERROR': 'failed',
  'devices.protocol': 'Protocol', 'devices.online': 'online', 'devices.offline': 'offline', 'devices.unknown': 'unknown', 'devices.none': 'No devices',
  'dash.title': 'City dashboard', 'dash.stations': 'Air stations', 'dash.meanAqi': 'Mean AQI', 'dash.activeAlerts': 'Active alerts',
  'dash.openIncidents': 'Open incidents', 'dash.devicesOnline': 'Devices online', 'dash.kpis': 'Key performance indicators',
  'dash.aqiByStation': 'AQI by station', 'dash.alertsBySeverity': 'Alerts by severity', 'dash.bigScreen': 'Big screen', 'dash.exit': 'Exit big screen',
  'dash.overview': 'Overview', 'dash.byDistrict': 'by district', 'dash.byDistrictHour': 'by district and hour', 'dash.noKpis': 'No indicators published yet',
  'dash.aqiCalendar': 'AQI calendar, last 30 days', 'dash.timeToAcknowledge': 'Mean time to acknowledge', 'dash.timeToDispatch': 'Mean time to dispatch',
  'dash.timeToResolve': 'Mean time to resolve',
  'app.air': 'Air quality', 'app.traffic': 'Transport', 'app.water': 'Water', 'app.power': 'Power', 'app.energy': 'Energy', 'app.structures': 'Structures',
  'app.serviceRequests': 'Service requests', 'app.service': 'Service requests', 'app.emergency': 'Emergency response', 'app.other': 'Other',
  'freq.hourly': 'hourly', 'freq.daily': 'daily', 'freq.monthly': 'monthly',
  'kpi.meanAqi': 'Mean AQI', 'kpi.goodAirDaysShare': 'Share of good-air days (%)', 'kpi.meanCongestionIndex': 'Mean congestion index',
  'common.loading': 'Loading…', 'common.error': 'Error', 'common.name': 'Name', 'common.type': 'Type', 'common.refresh': 'Refresh',
};
const zh: Dict = {
  'app.title': 'CityTwin 城市运行', 'nav.map': '地图', 'nav.alerts': '告警与事件', 'nav.rules': '规则', 'nav.devices': '设备',
  'nav.dashboard': '仪表盘', 'lang.switch': 'English', 'search.placeholder': '按编号或名称搜索…',
  'live.online': '实时', 'live.offline': '离线', 'live.connecting': '连接中…', 'legend.toggle': '点击隐藏或显示该图层',
  'layer.District': '行政区', 'layer.AirQualityObserved': '空气监测站', 'layer.TrafficFlowObserved': '道路传感器', 'layer.Alert': '告警',
  'layer.Incident': '事件', 'layer.ResponseUnit': '应急单元', 'layer.other': '其他',
  'aqi.good': '优', 'aqi.moderate': '良', 'aqi.usg': '轻度污染', 'aqi.unhealthy': '中度污染', 'aqi.veryUnhealthy': '重度污染',
  'aqi.hazardous': '严重污染', 'aqi.none': '无数据', 'aqi.title': '空气质量指数',
  'panel.attributes': '当前属性', 'panel.history': '历史', 'panel.close': '关闭', 'panel.noHistory': '无历史数据',
  'panel.attribute': '属性', 'panel.value': '值', 'panel.observedAt': '观测时间',
  'tm.title': '时光机', 'tm.live': '实时', 'tm.play': '回放', 'tm.pause': '暂停', 'tm.at': '时刻', 'tm.station': '站点', 'tm.value': 'AQI',
  'alerts.title': '未关闭告警', 'alerts.none': '暂无告警', 'alerts.severity': '级别', 'alerts.category': '类别', 'alerts.source': '来源',
  'alerts.issued': '发布时间', 'alerts.status': '状态', 'alerts.description': '描述',
  'incidents.title': '事件', 'incidents.none': '暂无事件', 'incidents.status': '状态', 'incidents.opened': '开始时间', 'incidents.unit': '单元',
  'incidents.actions': '操作', 'incidents.acknowledge': '确认', 'incidents.dispatch': '派遣', 'incidents.resolve': '处置完成',
  'incidents.close': '关闭', 'incidents.proposal': '建议单元', 'incidents.noUnit': '无可用单元',
  'incidents.route': '路线', 'incidents.meanTimes': '平均响应时间', 'incidents.toAck': '确认', 'incidents.toDispatch': '派遣', 'incidents.toResolve': '处置',
  'incidents.responseTimes': '响应时间（秒）：确认 / 派遣 / 处置',
  'status.open': '待处理', 'status.acknowledged': '已确认', 'status.dispatched': '已派遣', 'status.resolved': '已处置', 'status.closed': '已关闭',
  'status.active': '生效', 'status.cleared': '已解除',
  'severity.informational': '提示', 'severity.low': '低', 'severity.medium': '中', 'severity.high': '高', 'severity.critical': '严重',
  'rules.title': '规则', 'rules.id': '编号', 'rules.watch': '监视类型', 'rules.when': '条件 (when)', 'rules.for': '持续 (for)',
  'rules.clearWhen': '解除条件', 'rules.severity': '级别', 'rules.actions': '动作 (JSON)', 'rules.enabled': '启用', 'rules.state': '状态',
  'rules.fired': '触发次数', 'rules.enable': '启用', 'rules.disable': '停用', 'rules.edit': '编辑', 'rules.new': '新建规则', 'rules.save': '保存',
  'rules.cancel': '取消', 'rules.saved': '已保存', 'rules.description': '描述', 'rules.badJson': 'JSON 格式错误',
  'devices.title': '设备', 'devices.id': '设备', 'devices.entity': '实体', 'devices.state': '状态', 'devices.lastSeen': '最后上报',
  'devices.commands': '命令', 'devices.send': '发送', 'devices.value': '参数', 'devices.noCommand': '尚未发送',
  'cmd.PENDING': '等待中', 'cmd.DELIVERED': '已送达', 'cmd.OK': '已执行', 'cmd.ERROR': '失败',
  'devices.protocol': '协议', 'devices.online': '在线', 'devices.offline': '离线', 'devices.unknown': '未知', 'devices.none': '暂无设备',
  'dash.title': '城市仪表盘', 'dash.stations': '空气监测站', 'dash.meanAqi': '平均 AQI', 'dash.activeAlerts': '生效告警',
  'dash.openIncidents': '未关闭事件', 'dash.devicesOnline': '在线设备', 'dash.kpis': '关键绩效指标', 'dash.aqiByStation': '各站 AQI',
  'dash.alertsBySeverity': '告警级别分布', 'dash.bigScreen': '大屏', 'dash.exit': '退出大屏',
  'dash.overview': '总览', 'dash.byDistrict': '按行政区', 'dash.byDistrictHour': '按行政区和小时', 'dash.noKpis': '尚无指标',
  'dash.aqiCalendar': '近 30 天 AQI 日历', 'dash.timeToAcknowledge': '平均确认时间', 'dash.timeToDispatch': '平均派遣时间', 'dash.timeToResolve': '平均处置时间',
  'app.air': '空气质量', 'app.traffic': '交通', 'app.water': '供水', 'app.power': '电力', 'app.energy': '能源', 'app.structures': '结构安全',
  'app.serviceRequests': '市民诉求', 'app.service': '市民诉求', 'app.emergency': '应急处置', 'app.other': '其他',
  'freq.hourly': '每小时', 'freq.daily': '每日', 'freq.monthly': '每月',
  'kpi.meanAqi': '平均 AQI', 'kpi.goodAirDaysShare': '优良天数比例 (%)', 'kpi.meanCongestionIndex': '平均拥堵指数',
  'common.loading': '加载中…', 'common.error': '错误', 'common.name': '名称', 'common.type': '类型', 'common.refresh': '刷新',
};
const dictionaries: Record<Lang, Dict> = { zh, en };
export type Lang = 'zh' | 'en';

let lang: Lang = (localStorage.getItem('citytwin.lang') as Lang | null) ?? 'zh';
let timeZone = 'Asia/Shanghai';
const listeners: Array<() => void> = [];

export function t(key: string): string { return dictionaries[lang][key] ?? dictionaries.en[key] ?? key; }
// A label that may have no translation (an attribute or layer name): the key's text if none.
export function tOr(key: string, fallback: string): string { return dictionaries[lang][key] ?? fallback; }
export function currentLang(): Lang { return lang; }
export function setTimeZone(zone: string): void { timeZone = zone; }
export function cityTimeZone(): string { return timeZone; }

export function setLang(next: Lang): void {
  lang = next;
  localStorage.setItem('citytwin.lang', next);
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  applyStatic();
  for (const l of listeners) l();
}
export function onLangChange(listener: () => void): void { listeners.push(listener); }

// Elements with data-i18n="key" get the label as their text.
export function applyStatic(root: ParentNode = document): void {
  root.querySelectorAll<HTMLElement>('[data-i18n]').forEach(el => { el.textContent = t(el.dataset.i18n ?? ''); });
}

export function formatTime(iso: string | number | Date | undefined): string {
  if (iso === undefined || iso === '') return '';
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).format(d);
}
