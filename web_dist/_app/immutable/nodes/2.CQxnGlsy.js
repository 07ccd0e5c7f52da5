import{_ as m}from"../chunks/BtdSyvMr.js";export{m as component};
