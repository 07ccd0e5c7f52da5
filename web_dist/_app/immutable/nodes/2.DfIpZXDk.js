import{_ as m}from"../chunks/BtysWUuH.js";export{m as component};
