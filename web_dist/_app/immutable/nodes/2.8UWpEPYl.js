import{_ as m}from"../chunks/vx2mklx5.js";export{m as component};
