// Apache ECharts, only the parts the console uses (tree-shaken).
import * as echarts from 'echarts/core';
import { BarChart, HeatmapChart, LineChart, PieChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, HeatmapChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent,
  DataZoomComponent, VisualMapComponent, CanvasRenderer]);

export type Chart = echarts.ECharts;
export type ChartOption = echarts.EChartsCoreOption;

export function chart(el: HTMLElement, option: ChartOption): Chart {
  const existing = echarts.getInstanceByDom(el);
  const c = existing ?? echarts.init(el, 'dark', { renderer: 'canvas' });
  c.setOption({ backgroundColor: 'transparent', ...option }, true);
  return c;
}

export function resizeAll(root: ParentNode): void {
  root.querySelectorAll<HTMLElement>('[_echarts_instance_]').forEach(el => echarts.getInstanceByDom(el)?.resize());
}
